"""`siaran channels import|export` against a real router: YAML and CSV, dry run, the rows
that are wrong named with where they are in the file, and export → import changing nothing."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from siaran_cli.main import app
from typer.testing import CliRunner

from tests.e2e.harness import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def siaran(router: RunningStack, *args: str) -> Result:
    """`siaran channels ARGS` against the router (in a thread: the stack's loop keeps running)."""
    argv = ["channels", *args, "--router-url", router.url("router"), "--api-key", router.key]
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, argv, env={"COLUMNS": "200"})


async def channel(router: RunningStack, channel_id: str) -> dict[str, Any] | None:
    async with router.client("router") as client:
        r = await client.get(f"/v1/channels/{channel_id}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def rows(run: str) -> list[dict[str, Any]]:
    return [
        {"id": f"bantaeng-{run}", "region": "73.03", "kind": "web", "name": "Diskominfo Bantaeng",
         "endpoint": "https://bantaeng.example.go.id/hook", "tags": ["official", run]},
        {"id": f"jeneponto-{run}", "region": "73.04", "kind": "telegram", "name": "Jeneponto",
         "endpoint": "json://jeneponto.example.go.id/{secret:JENEPONTO}", "enabled": False,
         "rate_per_minute": 20, "tags": [run]},
    ]  # fmt: skip


def csv_text(run: str) -> str:
    return (
        "id,region,kind,name,endpoint,tags,enabled,rate_per_minute,secret\n"
        f"maros-{run},73.09,web,Diskominfo Maros,https://maros.example.go.id/h,official;{run},"
        "true,60,MAROS_HOOK\n"
        f"pangkep-{run},73.10,x,Pangkep,https://pangkep.example.go.id/h,{run},false,,\n"
    )


async def test_yaml_import_creates_then_reports_nothing_to_change(
    router: RunningStack, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    file = tmp_path / "channels.yaml"
    file.write_text(yaml.safe_dump({"channels": rows(run)}))
    result = await siaran(router, "import", str(file))
    assert result.exit_code == 0, result.output
    assert "2 rows: create 2, update 0, remove 0, unchanged 0" in result.stdout
    stored = await channel(router, f"jeneponto-{run}")
    assert stored is not None
    assert (stored["enabled"], stored["rate_per_minute"]) == (False, 20)
    again = await siaran(router, "import", str(file))
    assert "2 rows: create 0, update 0, remove 0, unchanged 2" in again.stdout


async def test_csv_import_reads_tags_flags_and_empty_cells(
    router: RunningStack, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    file = tmp_path / "channels.csv"
    file.write_text(csv_text(run))
    result = await siaran(router, "import", str(file))
    assert result.exit_code == 0, result.output
    assert "2 rows: create 2" in result.stdout
    maros, pangkep = await channel(router, f"maros-{run}"), await channel(router, f"pangkep-{run}")
    assert maros is not None
    assert pangkep is not None
    assert maros["tags"] == ["official", run]
    fields = ("enabled", "rate_per_minute", "secret")
    assert [maros[f] for f in fields] == [True, 60, "MAROS_HOOK"]
    assert [pangkep[f] for f in fields] == [False, None, None]


async def test_dry_run_reports_the_changes_and_makes_none(
    router: RunningStack, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    first, second = rows(run)
    file = tmp_path / "channels.yaml"
    file.write_text(yaml.safe_dump([first]))
    assert (await siaran(router, "import", str(file))).exit_code == 0
    file.write_text(yaml.safe_dump([first | {"name": "Bantaeng (baru)"}, second]))
    result = await siaran(router, "import", str(file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 rows: would create 1, would update 1" in result.stdout
    assert f"+ jeneponto-{run}" in result.stdout
    assert f"~ bantaeng-{run} (name)" in result.stdout
    assert "dry run: nothing was changed" in result.stdout
    assert await channel(router, f"jeneponto-{run}") is None
    stored = await channel(router, f"bantaeng-{run}")
    assert stored is not None
    assert stored["name"] == "Diskominfo Bantaeng"


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
async def test_bad_rows_are_named_where_they_are_and_nothing_is_imported(
    router: RunningStack, tmp_path: Path, suffix: str
) -> None:
    run = uuid.uuid4().hex[:8]
    good, bad = rows(run)[0], rows(run)[1] | {"region": "99.99", "endpoint": "ftp://x/y"}
    file = tmp_path / f"channels{suffix}"
    if suffix == ".yaml":
        file.write_text(yaml.safe_dump([good, bad]))
    else:
        file.write_text(
            "id,region,kind,name,endpoint\n"
            f"{good['id']},73.03,web,Bantaeng,https://bantaeng.example.go.id/hook\n"
            f"{bad['id']},99.99,web,Nowhere,ftp://x/y\n"
        )
    result = await siaran(router, "import", str(file))
    assert result.exit_code == 1, result.output
    assert "1 of 2 rows are invalid; nothing was imported" in result.stderr
    where = "item 2" if suffix == ".yaml" else "line 3"
    problems = [line for line in result.stderr.splitlines() if bad["id"] in line]
    assert {"region", "endpoint"} <= {f for line in problems for f in line.split()}, problems
    assert all(where in line for line in problems), problems
    assert await channel(router, good["id"]) is None


async def test_unreadable_files_are_refused_before_the_router_is_asked(
    router: RunningStack, tmp_path: Path
) -> None:
    text, no_columns = tmp_path / "channels.txt", tmp_path / "channels.csv"
    text.write_text("id: x\n")
    no_columns.write_text("id,region\nx,73.03\n")
    for file, message in ((text, "use a .yaml, .yml or .csv file"),
                          (no_columns, "lacks column(s): endpoint, kind, name")):  # fmt: skip
        result = await siaran(router, "import", str(file))
        assert result.exit_code == 2, result.output
        assert message in result.stderr


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
async def test_export_then_import_changes_nothing(
    router: RunningStack, tmp_path: Path, fmt: str
) -> None:
    run = uuid.uuid4().hex[:8]
    source = tmp_path / "source.csv"
    source.write_text(csv_text(run))
    yaml_source = tmp_path / "source.yaml"
    yaml_source.write_text(yaml.safe_dump(rows(run)))
    for file in (source, yaml_source):
        assert (await siaran(router, "import", str(file))).exit_code == 0
    exported = tmp_path / f"registry.{fmt}"
    result = await siaran(router, "export", "--output", str(exported))
    assert result.exit_code == 0, result.output
    text = exported.read_text()
    for channel_id in (f"maros-{run}", f"pangkep-{run}", f"bantaeng-{run}", f"jeneponto-{run}"):
        assert channel_id in text
    again = await siaran(router, "import", str(exported), "--dry-run")
    assert again.exit_code == 0, again.output
    summary = re.fullmatch(r"(\d+) rows: would create 0, would update 0, would remove 0, "
                           r"unchanged (\d+)", again.stdout.splitlines()[0])  # fmt: skip
    assert summary, again.stdout
    assert summary[1] == summary[2], "every exported row reads back unchanged"


def many(run: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"acct{i}-{run}", "region": "73.03", "kind": "x", "name": f"Akun {i}",
         "endpoint": f"https://amplifier.example.go.id/{i}", "tags": [run]}
        for i in range(count)
    ]  # fmt: skip


async def test_a_file_larger_than_one_request_is_imported_in_parts(
    router: RunningStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("siaran_cli.bulk_import.PART_ROWS", 3)
    monkeypatch.setattr("siaran_cli.channels.PART_ROWS", 3)
    run = uuid.uuid4().hex[:8]
    file = tmp_path / "many.yaml"
    file.write_text(yaml.safe_dump(many(run, 7)))
    result = await siaran(router, "import", str(file))
    assert result.exit_code == 0, result.output
    assert "7 rows: create 7, update 0, remove 0" in result.output
    assert "imported in 3 parts" in result.stderr
    assert all([await channel(router, f"acct{i}-{run}") for i in range(7)])
    again = await siaran(router, "import", str(file))
    assert "unchanged 7" in again.output, again.output


async def test_a_bad_row_in_a_later_part_imports_nothing_and_is_named_by_its_file_row(
    router: RunningStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("siaran_cli.bulk_import.PART_ROWS", 3)
    monkeypatch.setattr("siaran_cli.channels.PART_ROWS", 3)
    run = uuid.uuid4().hex[:8]
    rows_ = many(run, 7)
    rows_[5] = rows_[5] | {"region": "99.99"}
    file = tmp_path / "many.yaml"
    file.write_text(yaml.safe_dump(rows_))
    result = await siaran(router, "import", str(file))
    assert result.exit_code == 1, result.output
    assert "1 of 7 rows are invalid; nothing was imported" in result.stderr
    problems = [line for line in result.stderr.splitlines() if f"acct5-{run}" in line]
    assert problems, result.stderr
    assert all("item 6" in line for line in problems), result.stderr
    assert await channel(router, f"acct0-{run}") is None


async def test_prune_on_a_file_in_parts_removes_only_what_no_row_names(
    router: RunningStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("siaran_cli.bulk_import.PART_ROWS", 2)
    monkeypatch.setattr("siaran_cli.channels.PART_ROWS", 2)
    run = uuid.uuid4().hex[:8]
    file = tmp_path / "many.yaml"
    file.write_text(yaml.safe_dump(many(run, 5)))
    assert (await siaran(router, "import", str(file))).exit_code == 0
    export = tmp_path / "all.yaml"
    assert (await siaran(router, "export", "-o", str(export))).exit_code == 0
    everything = yaml.safe_load(export.read_text())["channels"]
    kept = [c for c in everything if c["id"] != f"acct4-{run}"]
    file.write_text(yaml.safe_dump(kept))
    dry = await siaran(router, "import", str(file), "--prune", "--dry-run")
    assert f"- acct4-{run}" in dry.output, dry.output
    assert "would remove 1" in dry.output, dry.output
    assert await channel(router, f"acct4-{run}") is not None
    result = await siaran(router, "import", str(file), "--prune")
    assert result.exit_code == 0, result.output
    assert "remove 1" in result.output, result.output
    assert await channel(router, f"acct4-{run}") is None
    assert await channel(router, f"acct3-{run}") is not None
