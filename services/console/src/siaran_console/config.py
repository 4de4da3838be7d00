"""The console's own settings (prefix SIARAN_CONSOLE_), on top of the shared ones."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field, model_validator
from siaran_shared.settings import Settings


class ConsoleSettings(Settings):
    """Where the other services answer, and how long a signed-in session lasts."""

    console_ingest_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8000"), description="Base URL of the ingest API."
    )
    console_router_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8001"), description="Base URL of the router API."
    )
    console_metrics_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8003"), description="Base URL of the metrics API."
    )
    console_session_seconds: int = Field(
        8 * 3600, ge=60, description="A session ends this long after sign-in, whatever happens."
    )
    console_idle_seconds: int = Field(
        1800, ge=60, description="A session ends after this long without a request."
    )
    console_max_sessions: int = Field(
        10_000, ge=1, description="Sessions held at once; the oldest is ended beyond it."
    )
    console_api_timeout_seconds: float = Field(
        10.0, gt=0, description="How long a call to another service may take."
    )
    console_live_interval_seconds: float = Field(
        1.0, gt=0, description="How often a live page's stream asks the metrics API again."
    )
    console_live_max_seconds: float = Field(
        600.0, gt=0, description="A live stream ends after this; the browser reconnects."
    )

    @model_validator(mode="after")
    def _production_is_explicit(self) -> ConsoleSettings:
        # Overrides the shared check: the console has no store, no Kafka and no key file, so
        # production needs none of them; it needs the other services' URLs set explicitly.
        if self.env.value == "production":
            unset = [
                f"SIARAN_{name.upper()}"
                for name in ("console_ingest_url", "console_router_url", "console_metrics_url")
                if name not in self.model_fields_set
            ]
            if unset:
                raise ValueError(f"production needs {', '.join(unset)} set explicitly")
        return self


def console_settings(settings: Settings | None) -> ConsoleSettings:
    """Console settings from the environment, or completed from given shared settings."""
    if settings is None:
        settings = ConsoleSettings()
    if isinstance(settings, ConsoleSettings):
        return settings.model_copy(update={"service": "console"})
    fields = settings.model_dump(exclude_unset=True) | {"service": "console"}
    return ConsoleSettings(**fields)
