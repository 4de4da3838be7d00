"""Delivery tasks, one per (announcement, channel), and their outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from siaran_shared.events.announcements import Media, Priority
from siaran_shared.events.base import Event, utcnow


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
    planned_at: datetime | None = Field(
        None,
        description="When the router planned the task with its channel as it was then (the"
        " publisher sends to a configuration saved later, never to an older one).",
    )
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
