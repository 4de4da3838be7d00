"""Settings only ingest reads (prefix SIARAN_INGEST_), next to the shared ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestConfig(BaseSettings):
    """Rate limits, size limits and publish timeout of the front door."""

    model_config = SettingsConfigDict(env_prefix="SIARAN_INGEST_", env_file=".env", extra="ignore")

    rate_per_second: float = Field(
        50.0, ge=0, description="Requests per second each API key may make; 0 turns it off."
    )
    rate_burst: int = Field(
        200, ge=1, description="Requests a key may make at once before the rate applies."
    )
    max_body_bytes: int = Field(
        256 * 1024, ge=1024, description="Largest request body (JSON or CAP) accepted."
    )
    publish_timeout_s: float = Field(
        10.0, gt=0, description="How long a submission waits for Kafka before answering 503."
    )
