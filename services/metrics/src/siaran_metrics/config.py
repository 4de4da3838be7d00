"""Metrics' own settings (prefix SIARAN_), on top of the shared ones: completion and the
completion callback."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from siaran_shared.settings import Settings


class MetricsSettings(Settings):
    """When an announcement counts as complete, and how its callback is retried."""

    completion_grace_seconds: float = Field(
        300.0,
        ge=0,
        description="After a cancellation or the expiry, how long outcomes may still arrive "
        "before the announcement completes with deliveries pending; after the release of one "
        "that matched no channel, how long before it completes with nothing planned.",
    )
    completion_fallback_wait_seconds: float = Field(
        30.0,
        ge=0,
        description="After a permanent failure of an announcement with fallback kinds, how "
        "long its fallback deliveries may take to be planned before it completes without.",
    )
    completion_poll_seconds: float = Field(
        1.0, gt=0, description="How often due callbacks and overdue completions are looked for."
    )
    callback_max_attempts: int = Field(8, ge=1, description="Attempts before a callback fails.")
    callback_max_age_seconds: float = Field(
        6 * 3600.0, gt=0, description="No callback attempt later than this after completion."
    )
    callback_base_seconds: float = Field(
        2.0, gt=0, description="Backoff base: attempt n waits up to base * 2**(n-1)."
    )
    callback_max_delay_seconds: float = Field(
        600.0, gt=0, description="Backoff cap (Retry-After may ask for longer, up to max age)."
    )
    callback_timeout_seconds: float = Field(
        15.0, gt=0, description="Longest one callback request may take."
    )

    @property
    def completion_grace(self) -> timedelta:
        return timedelta(seconds=self.completion_grace_seconds)

    @property
    def completion_fallback_wait(self) -> timedelta:
        return timedelta(seconds=self.completion_fallback_wait_seconds)


def metrics_settings(settings: Settings | None) -> MetricsSettings:
    """Metrics settings from the environment, or completed from given shared settings."""
    if settings is None:
        return MetricsSettings()
    if isinstance(settings, MetricsSettings):
        return settings
    return MetricsSettings(**settings.model_dump(exclude_unset=True))
