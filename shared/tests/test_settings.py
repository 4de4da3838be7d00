from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from siaran_shared.settings import Settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SIARAN_KAFKA_BOOTSTRAP", "SIARAN_STORE_URL", "SIARAN_HOME", "SIARAN_PORT"):
        monkeypatch.delenv(var, raising=False)
    s = Settings().for_service("router")
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.http_port == 8001
    assert s.resolved_store_url == "sqlite:///.siaran/router.db"
    assert s.resolved_api_keys_file == Path(".siaran/api-keys.json")
    assert s.consumer_group == "siaran-router"


def test_environment_is_read_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIARAN_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SIARAN_LOG_FORMAT", "yaml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()


def test_production_refuses_implicit_local_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIARAN_STORE_URL", raising=False)
    monkeypatch.delenv("SIARAN_API_KEYS_FILE", raising=False)
    monkeypatch.setenv("SIARAN_ENV", "production")
    with pytest.raises(ValidationError, match="SIARAN_STORE_URL"):
        Settings()


def test_sasl_password_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIARAN_KAFKA_SASL_PASSWORD", "hunter2-very-secret")
    s = Settings()
    assert "hunter2" not in repr(s)
    assert "hunter2" not in s.model_dump_json()
