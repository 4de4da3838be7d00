from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from siaran_shared.messaging import make_broker, producer_options
from siaran_shared.settings import BUNDLED_SESSION_TIMEOUT_MS, Settings


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


def _production(**values: Any) -> Settings:
    return Settings(env="production", store_url="mongodb://db", api_keys_file="keys.json", **values)


def test_production_producers_wait_for_all_replicas_idempotently() -> None:
    settings = _production()
    assert settings.kafka_broker == "kafka"
    assert producer_options(settings) == {"acks": "all", "enable_idempotence": True}
    # what the FastStream broker's producer is built with (no public accessor in 0.7)
    connection = make_broker(settings)._connection_kwargs
    assert (connection["acks"], connection["enable_idempotence"]) == ("all", True)


def test_bundled_broker_gets_acks_all_without_the_idempotent_producer() -> None:
    # aiokafka's idempotent producer fails at start against the bundled tansu broker
    for settings in (Settings(), _production(kafka_broker="bundled")):
        assert settings.bundled_broker
        assert producer_options(settings) == {"acks": "all", "enable_idempotence": False}


def test_session_timeout_is_production_sized_and_short_only_on_the_bundled_broker() -> None:
    assert _production().kafka_session_timeout_ms == 45_000
    assert Settings(kafka_broker="kafka").kafka_session_timeout_ms == 45_000
    assert Settings().kafka_session_timeout_ms == BUNDLED_SESSION_TIMEOUT_MS == 6000
    assert Settings(kafka_session_timeout_ms=9000).kafka_session_timeout_ms == 9000
    assert _production(kafka_session_timeout_ms=9000).kafka_session_timeout_ms == 9000
    assert Settings().for_service("router").kafka_session_timeout_ms == 6000
