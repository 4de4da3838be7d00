"""Announcements as submitted, and the events of their life: accepted, updated (a
correction), cancelled, completed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from siaran_shared.events.base import Event, utcnow


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
