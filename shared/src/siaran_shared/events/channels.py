"""Channel configurations in the registry, their changes, and the publisher's view of their
health."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from siaran_shared.events.base import Event, utcnow


class Channel(BaseModel):
    """A regional channel configuration in the registry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    region: str = Field(description="Region code (province or regency) or ID for national.")
    kind: str = Field(description="Platform: web, x, facebook, telegram, whatsapp, ...")
    name: str
    endpoint: str = Field(description="http(s) webhook or Apprise URL; secrets as {secret:NAME}.")
    tags: tuple[str, ...] = ()
    enabled: bool = True
    rate_per_minute: int | None = Field(None, ge=1)
    secret: str | None = Field(None, description="Name of the HMAC signing secret, never a value.")


class ChannelConfigured(Event):
    """A channel was created or changed (value on the compacted channels topic)."""

    event_type: ClassVar[str] = "id.siaran.channel.configured.v1"
    channel: Channel
    configured_at: datetime = Field(default_factory=utcnow)


class ChannelRemoved(Event):
    """A channel was deleted; on the topic it travels as a tombstone keyed by channel id."""

    event_type: ClassVar[str] = "id.siaran.channel.removed.v1"
    channel_id: str
    removed_at: datetime = Field(default_factory=utcnow)


class ChannelHealth(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # failures, circuit closed
    OPEN = "open"  # circuit open: not sent to until a probe succeeds
    HALF_OPEN = "half_open"  # probing
    NEEDS_RECONNECT = "needs_reconnect"  # 401/403: token expired or revoked


class ChannelHealthChanged(Event):
    """The publisher's view of a channel changed (circuit breaker, credentials)."""

    event_type: ClassVar[str] = "id.siaran.channel.health_changed.v1"
    channel_id: str
    kind: str
    province: str
    state: ChannelHealth
    reason: str | None = Field(None, description="Last error summary; never a secret.")
    consecutive_failures: int = 0
    changed_at: datetime = Field(default_factory=utcnow)
