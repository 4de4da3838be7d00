"""`siaran keys create|list` with roles, against a keys file of its own (no services)."""

from __future__ import annotations

from pathlib import Path

from siaran_cli.main import app
from siaran_shared.auth import KeyRing
from typer.testing import CliRunner


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["keys", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_create_with_roles_and_list_shows_them(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys.json")
    code, token, _ = run(
        "create", "--name", "editor", "--scope", "province:73",
        "--role", "draft", "--role", "approve", "--keys-file", keys,
    )  # fmt: skip
    assert code == 0
    key = KeyRing(tmp_path / "keys.json").verify(token.strip())
    assert key is not None
    assert key.roles == ("draft", "approve")
    assert run("create", "--name", "plain", "--scope", "national", "--keys-file", keys)[0] == 0
    code, _, said = run("create", "--name", "ops", "--scope", "admin", "--keys-file", keys)
    assert code == 0
    assert "roles all (admin)" in said  # as `list` says it, not the stored "publish"
    code, listing, _ = run("list", "--keys-file", keys)
    rows = [[cell.strip() for cell in line.split("│")] for line in listing.splitlines()]
    lines = {row[2]: row[4] for row in rows if len(row) > 4}
    assert "draft,approve" in lines["editor"]
    assert "publish" in lines["plain"]
    assert "approve" not in lines["plain"]
    assert "all (admin)" in lines["ops"]


def test_unknown_role_is_refused_naming_the_roles(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    code, out, err = run(
        "create", "--name", "x", "--scope", "national", "--role", "superuser",
        "--keys-file", str(keys),
    )  # fmt: skip
    assert code == 2
    assert "superuser" in err
    assert "publish, draft, approve" in err
    assert not out.strip()
    assert KeyRing(keys).all_keys() == []
