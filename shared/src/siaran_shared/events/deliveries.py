"""Delivery tasks, one per (announcement, channel), and their outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

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


#: The most deliveries one plan summary lists (a release chunk is 500): ~100 bytes each
#: keeps an event well under Kafka's 1 MB default message size.
PLAN_SUMMARY_MAX = 5_000


class PlannedDelivery(BaseModel):
    """One delivery of a plan summary: the channel it goes to, where and of which kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_id: str
    region: str
    province: str
    kind: str
    fallback_of: str | None = None


class PlannedEntry(NamedTuple):
    """A delivery of a plan summary with its ids, as a reader of planned tasks sees it."""

    delivery_id: str
    announcement_id: str
    channel_id: str
    region: str
    province: str
    kind: str
    revision: int
    fallback_of: str | None

    @classmethod
    def of(cls, task: DeliveryPlanned) -> PlannedEntry:
        """The entry a publish task is listed as."""
        t = task
        return cls(
            t.delivery_id,
            t.announcement_id,
            t.channel_id,
            t.region,
            t.province,
            t.kind,
            t.revision,
            t.fallback_of,
        )


class DeliveriesPlanned(Event):
    """The publish tasks of one announcement revision released together (a chunk of its
    fan-out), listed without their text: what metrics counts as planned, one event per
    chunk instead of reading every task (topic siaran.plans.v1, keyed by announcement id)."""

    event_type: ClassVar[str] = "id.siaran.deliveries.planned.v1"
    announcement_id: str
    revision: int = Field(1, ge=1, description="The announcement revision of the tasks.")
    planned_at: datetime | None = Field(None, description="When they were released.")
    deliveries: tuple[PlannedDelivery, ...] = Field(min_length=1, max_length=PLAN_SUMMARY_MAX)

    @classmethod
    def of(cls, tasks: Iterable[DeliveryPlanned]) -> list[DeliveriesPlanned]:
        """Summaries of the publish tasks among `tasks`: one per announcement revision and
        up to PLAN_SUMMARY_MAX deliveries (retractions are not planned deliveries)."""
        grouped: dict[tuple[str, int], list[PlannedDelivery]] = {}
        for t in tasks:
            if t.action is DeliveryAction.PUBLISH:
                entry = PlannedDelivery(
                    channel_id=t.channel_id,
                    region=t.region,
                    province=t.province,
                    kind=t.kind,
                    fallback_of=t.fallback_of,
                )
                grouped.setdefault((t.announcement_id, t.revision), []).append(entry)
        now = utcnow()
        return [
            cls(
                announcement_id=announcement_id,
                revision=revision,
                planned_at=now,
                deliveries=tuple(entries[i : i + PLAN_SUMMARY_MAX]),
            )
            for (announcement_id, revision), entries in grouped.items()
            for i in range(0, len(entries), PLAN_SUMMARY_MAX)
        ]

    def entries(self) -> list[PlannedEntry]:
        """Each delivery with its ids (delivery id = {announcement_id}:{channel_id})."""
        a, r = self.announcement_id, self.revision
        return [
            PlannedEntry(
                f"{a}:{d.channel_id}",
                a,
                d.channel_id,
                d.region,
                d.province,
                d.kind,
                r,
                d.fallback_of,
            )
            for d in self.deliveries
        ]
