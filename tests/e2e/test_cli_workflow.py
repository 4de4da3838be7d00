"""The editorial workflow through the `siaran` command against the real stack (bundled
broker, services as processes): a writer previews, drafts and submits; their own approval is
refused; an editor approves and the channel receives it once; a rejection keeps its reason;
the list shows what waits inside a key's scope only; a correction reaches the channel once as
revision 2; the deliveries name a channel that failed and why."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from siaran_cli.main import app
from typer.testing import CliRunner

from tests.e2e.harness import Receiver, RunningStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


@dataclass(frozen=True)
class Keys:
    writer: str
    writer_name: str
    editor: str
    editor_name: str


async def siaran(stack: RunningStack, key: str, *args: str) -> Result:
    """`siaran ARGS` with `key`, against the stack (in a thread: the stack's loop runs on)."""
    urls = {
        f"SIARAN_{name.upper()}_URL": stack.url(name) for name in ("ingest", "router", "metrics")
    }
    env = {"COLUMNS": "200", "SIARAN_API_KEY": key, **urls}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), None, env)


def create_key(stack: RunningStack, name: str, *roles: str, scope: str = "province:73") -> str:
    keys_file = str(stack.stack.config.home / "api-keys.json")
    options = [w for role in roles for w in ("--role", role)]
    result = CliRunner().invoke(app, ["keys", "create", "--name", name, "--scope", scope,
                                      *options, "--keys-file", keys_file])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def keys(stack: RunningStack) -> Keys:
    """A writer who drafts (and may approve others' work) and an editor, both of province 73."""
    run = uuid.uuid4().hex[:6]
    writer, editor = f"writer-{run}", f"editor-{run}"
    return Keys(create_key(stack, writer, "draft", "approve"), writer,
                create_key(stack, editor, "approve"), editor)  # fmt: skip


async def web_channel(stack: RunningStack, receiver: Receiver, run: str) -> str:
    """A web channel of Bantaeng (73.03) tagged `run`, at a path of its own on the receiver."""
    path = f"/cli-workflow/{run}"
    async with stack.client("router") as router:
        r = await router.put(f"/v1/channels/cli-{run}", json={
            "region": "73.03", "kind": "web", "name": f"Bantaeng {run}",
            "endpoint": receiver.base + path, "tags": [run]})  # fmt: skip
    assert r.status_code == 201, r.text
    return path


def announcement_file(tmp_path: Path, run: str, **fields: object) -> Path:
    file = tmp_path / f"{run}.yaml"
    file.write_text(yaml.safe_dump({
        "id": f"cli-{run}", "title": "Posyandu serentak di Bantaeng",
        "body": "Posyandu serentak dibuka di seluruh kecamatan pada hari Sabtu.",
        "target": {"regencies": ["73.03"], "tags": [run]}, **fields}))  # fmt: skip
    return file


def status_of(result: Result) -> str:
    """The status row of `siaran announcements show`."""
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) >= 2 and cells[0] == "status":
            return cells[1]
    return ""


async def test_writer_drafts_submits_own_approval_refused_editor_approves_delivered(
    stack: RunningStack, receiver: Receiver, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await web_channel(stack, receiver, run)
    file, ident = announcement_file(tmp_path, run), f"cli-{run}"

    preview = await siaran(stack, keys.writer, "preview", str(file))
    assert preview.exit_code == 0, preview.output
    assert "1 channels in 1 regions" in preview.stdout
    assert "Posyandu serentak di Bantaeng" in preview.stdout

    drafted = await siaran(stack, keys.writer, "announce", str(file), "--draft")
    assert drafted.exit_code == 0, drafted.output
    assert drafted.stdout.strip() == f"{ident} draft"
    submitted = await siaran(stack, keys.writer, "submit", ident)
    assert submitted.stdout.strip() == f"{ident} pending_approval", submitted.output

    own = await siaran(stack, keys.writer, "approve", ident)
    assert own.exit_code == 1
    assert "ingest answered 403" in own.stderr
    assert f"key {keys.writer_name!r} submitted announcement {ident!r}" in own.stderr
    waiting = await siaran(stack, keys.editor, "announcements", "show", ident)
    assert status_of(waiting) == "pending_approval", waiting.output

    approved = await siaran(stack, keys.editor, "approve", ident)
    assert approved.exit_code == 0, approved.output
    assert approved.stdout.strip() == f"{ident} accepted"
    await eventually(lambda: receiver.at(path), within=30, what="the delivery")
    [received] = receiver.at(path)
    assert received.json["data"]["announcement_id"] == ident

    shown = await siaran(stack, keys.writer, "announcements", "show", ident)
    assert status_of(shown) in ("accepted", "completed"), shown.output
    steps = [line.split() for line in shown.stdout.splitlines() if keys.editor_name in line]
    assert any("approve" in step for step in steps), shown.stdout
    assert keys.writer_name in shown.stdout


async def test_a_rejection_needs_a_reason_and_keeps_it(
    stack: RunningStack, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    file, ident = announcement_file(tmp_path, run), f"cli-{run}"
    waiting = await siaran(stack, keys.writer, "announce", str(file))
    assert waiting.stdout.strip() == f"{ident} pending_approval", waiting.output
    no_reason = await siaran(stack, keys.editor, "reject", ident)
    assert no_reason.exit_code == 2
    rejected = await siaran(
        stack, keys.editor, "reject", ident, "--reason", "jadwal belum dikonfirmasi"
    )
    assert rejected.exit_code == 0, rejected.output
    assert rejected.stdout.strip() == f"{ident} rejected"
    again = await siaran(stack, keys.editor, "approve", ident)
    assert again.exit_code == 1
    assert "409" in again.stderr
    assert "rejected" in again.stderr
    shown = await siaran(stack, keys.writer, "announcements", "show", ident)
    assert status_of(shown) == "rejected"
    assert "jadwal belum dikonfirmasi" in shown.stdout


async def test_bad_input_and_a_target_outside_the_scope_are_named(
    stack: RunningStack, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    bad = announcement_file(tmp_path, run, link="ftp://example.go.id/x")
    invalid = await siaran(stack, keys.writer, "announce", str(bad))
    assert invalid.exit_code == 1
    assert "ingest answered 422" in invalid.stderr
    assert "link:" in invalid.stderr
    outside = announcement_file(tmp_path, f"{run}-jkt", target={"provinces": ["31"]})
    for command in ("announce", "preview"):
        refused = await siaran(stack, keys.writer, command, str(outside))
        assert refused.exit_code == 1, refused.output
        assert "answered 403" in refused.stderr
        assert "31" in refused.stderr


async def test_the_list_shows_what_waits_inside_the_key_scope_only(
    stack: RunningStack, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    ident = f"cli-{run}"
    waiting = await siaran(stack, keys.writer, "announce", str(announcement_file(tmp_path, run)))
    assert waiting.stdout.strip() == f"{ident} pending_approval", waiting.output
    listed = await siaran(stack, keys.editor, "announcements", "list",
                          "--status", "pending_approval", "--limit", "500")  # fmt: skip
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if ident in line]
    assert "pending_approval" in row
    assert keys.writer_name in row
    jakarta = create_key(stack, f"jakarta-{run}", "approve", scope="province:31")
    elsewhere = await siaran(stack, jakarta, "announcements", "list", "--limit", "500")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert ident not in elsewhere.stdout


async def test_a_correction_reaches_the_channel_as_revision_2_once(
    stack: RunningStack, receiver: Receiver, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await web_channel(stack, receiver, run)
    file, ident = announcement_file(tmp_path, run), f"cli-{run}"
    assert (await siaran(stack, keys.writer, "announce", str(file))).exit_code == 0
    assert (await siaran(stack, keys.editor, "approve", ident)).exit_code == 0
    await eventually(lambda: receiver.at(path), within=30, what="revision 1")
    fixed = announcement_file(tmp_path, run, body="Posyandu serentak dibuka hari Minggu.")
    corrected = await siaran(stack, stack.key, "edit", ident, str(fixed))
    assert corrected.exit_code == 0, corrected.output
    assert corrected.stdout.strip() == f"{ident} accepted revision 2"
    assert "correction published as revision 2" in corrected.stderr
    await eventually(lambda: len(receiver.at(path)) >= 2, within=30, what="revision 2")
    first, second = receiver.at(path)
    assert first.json["type"] == "id.siaran.announcement.published.v1"
    assert second.json["type"] == "id.siaran.announcement.updated.v1"
    assert second.headers["Idempotency-Key"] == f"{ident}:cli-{run}:r2"
    assert "Minggu" in second.json["data"]["text"]
    again = await siaran(stack, stack.key, "edit", ident, str(fixed))
    assert "unchanged: revision 2" in again.stderr
    shown = await siaran(stack, keys.editor, "announcements", "show", ident)
    assert "2" in [c.strip() for c in shown.stdout.split("│")], shown.stdout

    async def delivered() -> Result | None:
        result = await siaran(stack, keys.editor, "deliveries", ident)
        return result if f"cli-{run}" in result.stdout and "delivered" in result.stdout else None

    listing = await eventually(delivered, within=30, what="the delivery in the ledger")
    [row] = [line for line in listing.stdout.splitlines() if f"cli-{run}" in line]
    assert "73.03" in row
    assert "web" in row
    assert len(receiver.at(path)) == 2, "nothing posted twice"


async def test_deliveries_name_the_channel_that_failed_and_why(
    stack: RunningStack, receiver: Receiver, keys: Keys, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await web_channel(stack, receiver, run)
    receiver.status_for[path] = [400]
    file, ident = announcement_file(tmp_path, run), f"cli-{run}"
    assert (await siaran(stack, stack.key, "announce", str(file))).exit_code == 0

    async def failed() -> Result | None:
        result = await siaran(stack, keys.editor, "deliveries", ident, "--status", "failed",
                              "--province", "73", "--kind", "web")  # fmt: skip
        return result if f"cli-{run}" in result.stdout else None

    listing = await eventually(failed, within=30, what="the failed delivery in the ledger")
    [row] = [line for line in listing.stdout.splitlines() if f"cli-{run}" in line]
    assert "failed" in row
    assert "400" in row
    other = await siaran(stack, keys.editor, "deliveries", ident, "--status", "delivered")
    assert f"cli-{run}" not in other.stdout
