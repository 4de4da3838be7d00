"""Settings read once from the environment (prefix SIARAN_), typed and validated at start."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_PORTS: dict[str, int] = {
    "ingest": 8000,
    "router": 8001,
    "publisher": 8002,
    "metrics": 8003,
    "console": 8004,
}
#: The bundled broker makes a joining consumer wait half the session timeout: keep it short.
BUNDLED_SESSION_TIMEOUT_MS = 6000


class Environment(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting a Siaran service reads; each service uses the fields it needs."""

    model_config = SettingsConfigDict(env_prefix="SIARAN_", env_file=".env", extra="ignore")

    service: str = Field("siaran", description="Name of the running service (set by each app).")
    env: Environment = Field(
        Environment.LOCAL, description="local (embedded defaults) or production (strict checks)."
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int | None = Field(None, description="HTTP port; defaults to the service's own port.")
    home: Path = Field(Path(".siaran"), description="Folder for local state (SQLite, dev key).")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_fetch_max_wait_ms: int = Field(
        10, ge=0, description="Consumer long-poll wait: latency against idle broker CPU."
    )
    kafka_broker: Literal["bundled", "kafka"] = Field(
        "bundled",
        description="bundled (the local tansu broker: no idempotent producer, short session "
        "timeout) or kafka (Apache Kafka); unset, kafka when env is production.",
    )
    kafka_session_timeout_ms: int = Field(
        45_000,
        ge=1000,
        description="Group session timeout; unset, 6000 on the bundled broker (which waits "
        "half of it on every group join).",
    )
    kafka_create_topics: bool = Field(
        True, description="Create missing topics with their partition counts at start."
    )

    store_url: str | None = Field(
        None, description="sqlite:///path or mongodb://...; default sqlite:///.siaran/{service}.db"
    )
    api_keys_file: Path | None = Field(
        None, description="JSON file of hashed API keys; default .siaran/api-keys.json"
    )
    secrets_dir: Path | None = Field(
        None, description="Folder of secret files named by {secret:NAME}; else environment."
    )
    log_format: Literal["json", "console"] | None = Field(
        None, description="json or console; default console on a terminal, json otherwise."
    )
    log_level: str = "INFO"
    endpoint_allowlist: list[str] = Field(
        [],
        description="Hosts or CIDR networks channel endpoints may use although they are "
        "link-local or cloud metadata addresses (JSON list).",
    )

    @model_validator(mode="after")
    def _broker_defaults(self) -> Settings:
        given = self.model_fields_set
        if "kafka_broker" not in given and self.env is Environment.PRODUCTION:
            self.kafka_broker = "kafka"
        if "kafka_session_timeout_ms" not in given and self.bundled_broker:
            self.kafka_session_timeout_ms = BUNDLED_SESSION_TIMEOUT_MS
        return self

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("SIARAN_STORE_URL", self.store_url),
                    ("SIARAN_API_KEYS_FILE", self.api_keys_file),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)} set explicitly")
            if self.kafka_sasl_mechanism and not self.kafka_sasl_password:
                raise ValueError("SIARAN_KAFKA_SASL_PASSWORD is required with a SASL mechanism")
        return self

    def for_service(self, service: str) -> Settings:
        """A copy bound to one service (its name, default port and store)."""
        return self.model_copy(update={"service": service})

    @property
    def bundled_broker(self) -> bool:
        """Whether the broker is the bundled tansu (its quirks are DESIGN.md's)."""
        return self.kafka_broker == "bundled"

    @property
    def http_port(self) -> int:
        """The HTTP port: explicit, else the service's contract port."""
        return self.port or SERVICE_PORTS.get(self.service, 8000)

    @property
    def resolved_store_url(self) -> str:
        """The store URL: explicit, else one SQLite file per service under home."""
        return self.store_url or f"sqlite:///{self.home / f'{self.service}.db'}"

    @property
    def resolved_api_keys_file(self) -> Path:
        """The API keys file: explicit, else under home."""
        return self.api_keys_file or self.home / "api-keys.json"

    @property
    def consumer_group(self) -> str:
        """Kafka consumer group of this service."""
        return f"siaran-{self.service}"


def load_settings(service: str) -> Settings:
    """Read and validate settings for one service; raises with every problem at once."""
    return Settings().for_service(service)
