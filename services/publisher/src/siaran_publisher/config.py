"""The publisher's own settings (prefix SIARAN_), on top of the shared ones."""

from __future__ import annotations

from pydantic import Field
from siaran_shared.settings import Settings


class PublisherSettings(Settings):
    """Concurrency, retry, circuit-breaker and transport settings of the publisher."""

    publisher_max_in_flight: int = Field(
        4096,
        ge=1,
        description="Sends in progress at once across all channels (each holds a task and a"
        " connection; capped below the process's open-file limit).",
    )
    publisher_channel_concurrency: int = Field(
        4, ge=1, description="Sends in progress at once to one channel."
    )
    publisher_host_concurrency: int = Field(
        2048,
        ge=1,
        description="Sends in progress at once to one host (a slow host holds its share of"
        " the sends, never all of them).",
    )
    publisher_max_pending: int = Field(
        250,
        ge=1,
        description="Uncommitted records per partition before fetching from it pauses.",
    )
    publisher_max_held_mb: float = Field(
        64.0,
        gt=0,
        description="Memory the records fetched but not finished may take before fetching"
        " pauses on every partition.",
    )
    publisher_commit_interval_seconds: float = Field(
        0.5, gt=0, description="How often finished offsets are committed."
    )
    publisher_drain_seconds: float = Field(
        8.0, ge=0, description="At shutdown, how long in-flight sends may finish."
    )
    publisher_schedule_poll_seconds: float = Field(
        0.25, gt=0, description="How often the durable schedule is checked for due work."
    )
    publisher_inline_wait_seconds: float = Field(
        1.0,
        ge=0,
        description="Waits up to this (rate limit, not_before) happen in memory; longer"
        " ones go to the durable schedule so no offset is held for long.",
    )
    claim_lease_seconds: float = Field(
        120.0, gt=0, description="A claim older than this, left by a crashed instance, is retried."
    )
    retry_max_attempts: int = Field(8, ge=1, description="Attempts before a delivery fails.")
    retry_max_age_seconds: float = Field(
        6 * 3600.0, gt=0, description="No retry later than this after the delivery was due."
    )
    retry_base_seconds: float = Field(
        2.0, gt=0, description="Backoff base: attempt n waits up to base * 2**(n-1)."
    )
    retry_max_delay_seconds: float = Field(
        600.0, gt=0, description="Backoff cap (Retry-After may ask for longer, up to max age)."
    )
    breaker_failures: int = Field(
        5, ge=1, description="Consecutive failures that open a channel's circuit."
    )
    breaker_cooldown_seconds: float = Field(
        30.0, gt=0, description="How long an open circuit waits before a probe."
    )
    webhook_connect_timeout_seconds: float = Field(5.0, gt=0)
    webhook_read_timeout_seconds: float = Field(15.0, gt=0)
    graph_api_url: str = Field(
        "https://graph.facebook.com/v23.0",
        description="Meta Graph API base with its pinned version (facebook://, instagram://).",
    )
    threads_api_url: str = Field(
        "https://graph.threads.net/v1.0", description="Threads API base with its version."
    )
    tiktok_api_url: str = Field(
        "https://open.tiktokapis.com", description="TikTok API base (paths carry /v2/)."
    )
    youtube_api_url: str = Field(
        "https://www.googleapis.com", description="Google APIs base (paths carry youtube/v3)."
    )
    google_token_url: str = Field(
        "https://oauth2.googleapis.com/token",
        description="Google's OAuth 2.0 token endpoint, where youtube:// refresh tokens are"
        " exchanged for access tokens.",
    )
    token_key_secret: str = Field(
        "TOKEN_KEY",
        description="Name of the secret holding the Fernet key(s), comma-separated, first one"
        " encrypting, that seal refreshed platform tokens in the store.",
    )
    send_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest one send may take in all, through any transport."
    )
    upload_timeout_seconds: float = Field(
        1800.0,
        gt=0,
        description="Longest one send that streams a video up may take (youtube://); a retry"
        " resumes the upload session where it stopped.",
    )


def publisher_settings(settings: Settings | None) -> PublisherSettings:
    """Publisher settings from the environment, or completed from given shared settings."""
    if settings is None:
        return PublisherSettings()
    if isinstance(settings, PublisherSettings):
        return settings
    return PublisherSettings(**settings.model_dump(exclude_unset=True))
