"""Event schemas carried on Siaran's topics: frozen pydantic models with a schema version."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: immutable, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: CloudEvents `type` of this event (reverse-DNS, versioned).
    event_type: ClassVar[str] = ""
    schema_version: Literal[1] = Field(1, description="Version of this event's schema.")


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Target(BaseModel):
    """Which regions an announcement selects, and which of their channels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    national: bool = Field(False, description="Every region, plus the national (ID) channels.")
    provinces: tuple[str, ...] = Field((), description="Province codes; include their regencies.")
    regencies: tuple[str, ...] = Field((), description="Regency/city codes such as 73.03.")
    zones: tuple[Literal["WIB", "WITA", "WIT"], ...] = Field(
        (), description="Time zones; select every region in them."
    )
    kinds: tuple[str, ...] = Field((), description="Only channels of these kinds (empty: all).")
    tags: tuple[str, ...] = Field((), description="Only channels with one of these tags.")


class Media(BaseModel):
    """A picture or video travelling with an announcement (an http(s) URL platforms pull)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="http(s) URL of the file.")
    type: Literal["image", "video"]
    alt: str | None = Field(None, description="Text alternative for people who cannot see it.")


class Fallback(BaseModel):
    """Where a region's announcement goes when one of its channels fails permanently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: tuple[str, ...] = Field(
        min_length=1, description="Kinds of the same region's channels to use instead, once."
    )


class Announcement(BaseModel):
    """An announcement as accepted by ingest: validated, normalised content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Announcement id, unique per ministry system.")
    title: str
    body: str
    summary: str | None = None
    link: str | None = None
    category: str | None = None
    priority: Priority = Priority.NORMAL
    hashtags: tuple[str, ...] = ()
    target: Target
    publish_at: datetime | None = Field(None, description="Hold deliveries until then.")
    publish_local_time: str | None = Field(
        None, description="HH:MM: release each region's deliveries at that local time."
    )
    expires_at: datetime | None = Field(None, description="Post nothing after this instant.")
    media: tuple[Media, ...] = Field((), max_length=10, description="Pictures and videos.")
    callback_url: str | None = Field(
        None, description="http(s) URL told once per revision when every delivery is final."
    )
    callback_secret: str | None = Field(
        None, description="NAME of the secret that signs the callback, never a value."
    )
    fallback: Fallback | None = Field(
        None, description="Kinds a region's announcement falls back to when a channel fails."
    )


class AnnouncementAccepted(Event):
    """Ingest accepted an announcement; the router fans it out."""

    event_type: ClassVar[str] = "id.siaran.announcement.accepted.v1"
    announcement: Announcement
    accepted_at: datetime = Field(default_factory=utcnow)
    submitted_by: str = Field(description="Name of the API key that submitted it.")
    replaces: str | None = Field(None, description="Id of an announcement this one updates.")
    revision: int = Field(1, ge=1, description="1 when first published; corrections count up.")


class AnnouncementUpdated(Event):
    """A correction of an accepted announcement: revision N+1 replaces every delivery of the
    earlier revisions (those not yet posted are never posted; posted ones are updated)."""

    event_type: ClassVar[str] = "id.siaran.announcement.updated.v1"
    announcement: Announcement
    revision: int = Field(ge=2, description="The revision this correction publishes.")
    accepted_at: datetime = Field(description="When revision 1 was accepted.")
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(description="Name of the API key that corrected it.")
    submitted_by: str = Field(description="Name of the API key that first submitted it.")


class CompletionStatus(StrEnum):
    COMPLETED = "completed"  # every delivery of the revision has a final outcome
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AnnouncementCompleted(Event):
    """Every delivery of an announcement's revision is final (or it was cancelled or expired):
    metrics says so once per revision; ingest marks the announcement completed and the
    callback URL, if any, receives it with the report as data."""

    event_type: ClassVar[str] = "id.siaran.announcement.completed.v1"
    announcement_id: str
    revision: int = Field(1, ge=1)
    status: CompletionStatus = CompletionStatus.COMPLETED
    completed_at: datetime = Field(default_factory=utcnow)
    report: dict[str, Any] = Field(description="The announcement's report (metrics' shape).")


class AnnouncementCancelled(Event):
    """An announcement was cancelled: pending deliveries stop, delivered ones are retracted."""

    event_type: ClassVar[str] = "id.siaran.announcement.cancelled.v1"
    announcement_id: str
    cancelled_at: datetime = Field(default_factory=utcnow)
    cancelled_by: str
    reason: str | None = None


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


class DeliveryAction(StrEnum):
    PUBLISH = "publish"
    RETRACT = "retract"


class DeliveryPlanned(Event):
    """One task per (announcement, channel) with the text already rendered for the channel."""

    event_type: ClassVar[str] = "id.siaran.delivery.planned.v1"
    delivery_id: str = Field(description="{announcement_id}:{channel_id}")
    announcement_id: str
    channel_id: str
    region: str
    province: str = Field(description="Province code of the region, or ID.")
    kind: str
    endpoint: str
    secret: str | None = None
    rate_per_minute: int | None = None
    action: DeliveryAction = DeliveryAction.PUBLISH
    title: str
    text: str
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    priority: Priority = Priority.NORMAL
    media: tuple[Media, ...] = Field((), max_length=10, description="The announcement's media.")
    accepted_at: datetime
    not_before: datetime | None = None
    expires_at: datetime | None = None
    attempt: int = Field(1, ge=1, description="Attempt number this task is for.")
    revision: int = Field(1, ge=1, description="The announcement revision this task carries.")
    fallback_of: str | None = Field(
        None, description="Delivery id whose permanent failure this fallback task replaces."
    )


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    RETRACTED = "retracted"
    SUPERSEDED = "superseded"  # a later revision replaced it before it was posted


class DeliveryCompleted(Event):
    """The terminal outcome of one delivery's attempt chain."""

    event_type: ClassVar[str] = "id.siaran.delivery.completed.v1"
    delivery_id: str
    announcement_id: str
    channel_id: str
    region: str
    province: str
    kind: str
    action: DeliveryAction = DeliveryAction.PUBLISH
    status: DeliveryStatus
    attempts: int = Field(ge=0)
    accepted_at: datetime
    completed_at: datetime = Field(default_factory=utcnow)
    latency_seconds: float | None = Field(None, description="accepted → delivered")
    response: str | None = Field(None, description="Short summary of the channel's answer.")
    revision: int = Field(1, ge=1, description="The announcement revision of the task.")
    post_id: str | None = Field(None, description="The platform's id of the post it made.")
    fallback_of: str | None = Field(None, description="The failed delivery this one replaced.")

    @classmethod
    def of(
        cls,
        task: DeliveryPlanned,
        status: DeliveryStatus,
        *,
        attempts: int,
        response: str,
        post_id: str | None = None,
    ) -> DeliveryCompleted:
        """The outcome of a delivery task, now; latency is measured for delivered ones."""
        now = utcnow()
        delivered = status is DeliveryStatus.DELIVERED
        return cls(
            delivery_id=task.delivery_id,
            announcement_id=task.announcement_id,
            channel_id=task.channel_id,
            region=task.region,
            province=task.province,
            kind=task.kind,
            action=task.action,
            status=status,
            attempts=attempts,
            accepted_at=task.accepted_at,
            completed_at=now,
            latency_seconds=(now - task.accepted_at).total_seconds() if delivered else None,
            response=response[:300],
            revision=task.revision,
            fallback_of=task.fallback_of,
            post_id=post_id,
        )


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


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        AnnouncementAccepted,
        AnnouncementCancelled,
        AnnouncementUpdated,
        AnnouncementCompleted,
        ChannelConfigured,
        ChannelRemoved,
        DeliveryPlanned,
        DeliveryCompleted,
        ChannelHealthChanged,
    )
}
