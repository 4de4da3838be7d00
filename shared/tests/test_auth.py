from __future__ import annotations

import json
from pathlib import Path

import pytest
from siaran_shared.auth import ROLES, InvalidRole, InvalidScope, KeyRing, Scope


def test_key_is_shown_once_and_stored_only_as_hash(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    key, token = ring.create("bantaeng", "regency:73.03")
    stored = (tmp_path / "keys.json").read_text()
    assert token not in stored
    assert token.split("_")[2] not in stored
    assert json.loads(stored)["keys"][0]["hash"] == key.hash
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
    assert ring.verify(token) == key


@pytest.mark.parametrize(
    "token", ["", "garbage", "siaran_nokey", "siaran_abc_def", "Bearer x", "siaran__"]
)
def test_malformed_or_unknown_tokens_are_refused(tmp_path: Path, token: str) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    ring.create("x", "national")
    assert ring.verify(token) is None


def test_tampered_secret_is_refused(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    _, token = ring.create("x", "national")
    assert ring.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_revocation_is_seen_by_another_reader_at_once(tmp_path: Path) -> None:
    writer = KeyRing(tmp_path / "keys.json")
    reader = KeyRing(tmp_path / "keys.json")
    key, token = writer.create("x", "admin")
    assert reader.verify(token) is not None
    assert [k.id for k in writer.revoke("x")] == [key.id]
    assert reader.verify(token) is None
    assert writer.revoke("x") == []


@pytest.mark.parametrize(
    ("scope", "region", "allowed"),
    [
        ("national", "73.03", True),
        ("national", "ID", True),
        ("admin", "ID", True),
        ("province:73", "73", True),
        ("province:73", "73.03", True),
        ("province:73", "31.71", False),
        ("province:73", "ID", False),
        ("regency:73.03", "73.03", True),
        ("regency:73.03", "73", False),
        ("regency:73.03", "73.04", False),
    ],
)
def test_scope_covers(scope: str, region: str, allowed: bool) -> None:
    assert Scope.parse(scope).covers(region) is allowed


@pytest.mark.parametrize("bad", ["", "province", "province:99", "regency:73", "root", "admin:1"])
def test_invalid_scopes_are_refused_with_a_hint(bad: str) -> None:
    with pytest.raises(InvalidScope, match="province:<code>"):
        Scope.parse(bad)


@pytest.mark.parametrize(
    ("scope", "codes", "allowed"),
    [
        ("national", ["ID", "73.03", "31.71"], True),
        ("admin", ["ID"], True),
        ("province:73", ["73", "73.03", "73.71"], True),
        ("province:73", ["73.03", "31.71"], False),
        ("province:73", ["73", "ID"], False),
        ("regency:73.03", ["73.03"], True),
        ("regency:73.03", ["73.03", "73.04"], False),
        ("regency:73.03", ["73"], False),
    ],
)
def test_scope_covers_all(scope: str, codes: list[str], allowed: bool) -> None:
    assert Scope.parse(scope).covers_all(codes) is allowed


def test_roles_are_stored_checked_and_default_to_publish(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    writer, _ = ring.create("writer", "province:73", ["draft"])
    editor, _ = ring.create("editor", "province:73", ["approve", "draft", "approve"])
    plain, _ = ring.create("plain", "national")
    assert (writer.roles, editor.roles, plain.roles) == (
        ("draft",),
        ("draft", "approve"),
        ("publish",),
    )
    reread = {k.name: k for k in KeyRing(tmp_path / "keys.json").all_keys()}
    assert reread["editor"] == editor
    assert not writer.has_role("publish")
    assert writer.has_role("draft")
    assert editor.has_role("approve")
    assert not editor.has_role("publish")
    with pytest.raises(InvalidRole, match="publish, draft, approve"):
        ring.create("x", "national", ["root"])


def test_admin_key_holds_every_role(tmp_path: Path) -> None:
    key, _ = KeyRing(tmp_path / "keys.json").create("ops", "admin", ["draft"])
    assert all(key.has_role(role) for role in ROLES)


def test_key_file_written_before_roles_keeps_working_as_publish(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    key, token = ring.create("old", "regency:73.03")
    data = json.loads((tmp_path / "keys.json").read_text())
    del data["keys"][0]["roles"]
    (tmp_path / "keys.json").write_text(json.dumps(data))
    verified = KeyRing(tmp_path / "keys.json").verify(token)
    assert verified is not None
    assert verified.roles == ("publish",)
    assert verified.has_role("publish")
    assert not verified.has_role("approve")
    assert [k.id for k in KeyRing(tmp_path / "keys.json").revoke("old")] == [key.id]
