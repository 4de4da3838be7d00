"""Secrets come only from the secrets folder or SIARAN_SECRET_<NAME> variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from siaran_shared.secrets import MissingSecret, Secrets


def test_service_configuration_cannot_be_named_as_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SIARAN_STORE_URL", "mongodb://root:hunter2@db/")
    secrets = Secrets(tmp_path)
    with pytest.raises(MissingSecret, match="SIARAN_SECRET_SIARAN_STORE_URL"):
        secrets.fill("https://evil.example/{secret:SIARAN_STORE_URL}")
    with pytest.raises(MissingSecret):
        secrets.get("SIARAN_STORE_URL")


def test_secrets_come_from_the_folder_then_prefixed_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "HOOK").write_text("from-file\n")
    monkeypatch.setenv("SIARAN_SECRET_HOOK", "from-env")
    monkeypatch.setenv("SIARAN_SECRET_TG", "123:abc")
    secrets = Secrets(tmp_path)
    assert secrets.get("HOOK") == "from-file"
    assert secrets.fill("tgram://{secret:TG}/42") == "tgram://123:abc/42"
    assert Secrets(None).get("HOOK") == "from-env"


def test_a_name_cannot_leave_the_secrets_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "outside").write_text("not a secret")
    folder = tmp_path / "secrets"
    folder.mkdir()
    with pytest.raises(MissingSecret):
        Secrets(folder).get("../outside")


def test_scrub_values_include_the_percent_encoded_form(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SIARAN_SECRET_KEY", "a b/c")
    values = Secrets(tmp_path).values_in("json://h/{secret:KEY}", None)
    assert {"a b/c", "a%20b%2Fc", "a%20b/c"} <= set(values)


def test_a_reserved_secret_is_never_given_to_a_channel(tmp_path: Path) -> None:
    (tmp_path / "TOKEN_KEY").write_text("fernet-key-value")
    (tmp_path / "HOOK").write_text("hook-value")
    secrets = Secrets(tmp_path, reserved=["TOKEN_KEY"])
    with pytest.raises(MissingSecret, match="never goes to a channel"):
        secrets.get("TOKEN_KEY")
    with pytest.raises(MissingSecret):
        secrets.fill("https://attacker.example/hook?k={secret:TOKEN_KEY}")
    assert secrets.values_in("https://x.example/{secret:TOKEN_KEY}", None) == []
    assert secrets.own("TOKEN_KEY") == "fernet-key-value"
    assert secrets.fill("https://x.example/{secret:HOOK}") == "https://x.example/hook-value"
