"""The ledger's records: one per delivery, one per announcement with its totals. Frozen; a
transition returns a new record. Stored as they always were (ISO-8601 times, status strings),
so a ledger written by an earlier version reads the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementUpdated,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    PlannedEntry,
)
from siaran_shared.regions import target_regions
from siaran_shared.release_times import last_release


class DeliveryState(StrEnum):
    """A delivery in the ledger: pending until an outcome arrives, then the outcome's."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SKIPPED = "skipped"
    RETRACTED = "retracted"  # only ever a retraction's outcome; never counted in totals
    #: a later revision replaced it before it was posted; counted pending (never final or
    #: failed) until that revision's plan arrives, if it does (see completion.py)
    SUPERSEDED = "superseded"

    @property
    def counted_as(self) -> DeliveryState:
        """The state it counts as in totals and reports."""
        return DeliveryState.PENDING if self is DeliveryState.SUPERSEDED else self


#: The states an announcement's totals count (each delivery in one of them, or in none).
COUNTED = (
    DeliveryState.DELIVERED,
    DeliveryState.FAILED,
    DeliveryState.PENDING,
    DeliveryState.CANCELLED,
    DeliveryState.EXPIRED,
    DeliveryState.SKIPPED,
)


class Totals(BaseModel):
    """An announcement's deliveries counted per state; `planned` counts them all."""

    model_config = ConfigDict(frozen=True)

    planned: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    cancelled: int = 0
    expired: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, by_state: Mapping[Any, int]) -> Totals:
        """Totals from a count of delivery records per state."""
        counts: Counter[str] = Counter()
        for state, n in by_state.items():
            counts[DeliveryState(state).counted_as.value if state else str(state)] += n
        return cls(planned=sum(by_state.values()), **{s: counts[s] for s in COUNTED})

    def get(self, state: DeliveryState) -> int:
        return int(getattr(self, state.value, 0))

    @property
    def complete(self) -> bool:
        """Every planned delivery has an outcome (and there is at least one)."""
        return self.pending == 0 and self.planned > 0


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _iso(value: datetime | None) -> str | None:
    """UTC, so stored times compare as strings (`Announcements.overdue`, `recent`)."""
    if value is None:
        return None
    return (value.astimezone(UTC) if value.tzinfo else value).isoformat()


#: A planned delivery as the ledger reads it: a task, or an entry of a plan summary.
Planned = DeliveryPlanned | PlannedEntry


def _identity(event: Planned | DeliveryCompleted) -> dict[str, str | int | None]:
    """Which delivery an event is about, of which revision (read from its attributes: the
    hot path)."""
    return {
        "delivery_id": event.delivery_id,
        "announcement_id": event.announcement_id,
        "channel_id": event.channel_id,
        "region": event.region,
        "province": event.province,
        "kind": event.kind,
        "revision": event.revision,
        "fallback_of": event.fallback_of,
    }


class DeliveryRecord(_Record):
    """One delivery as the ledger knows it, at the latest revision seen: planned, and that
    revision's outcome."""

    delivery_id: str
    announcement_id: str
    channel_id: str
    region: str
    province: str
    kind: str
    revision: int = 1
    #: the failed delivery this one replaces (a fallback kind of the same region)
    fallback_of: str | None = None
    planned: bool = False
    status: DeliveryState = DeliveryState.PENDING
    attempts: int | None = None
    completed_at: datetime | None = None
    latency_seconds: float | None = None
    response: str | None = None
    post_id: str | None = None
    retraction: DeliveryStatus | None = None

    @field_serializer("completed_at")
    def _iso_completed_at(self, value: datetime | None) -> str | None:
        return _iso(value)

    @classmethod
    def first_seen(cls, event: Planned | DeliveryCompleted) -> DeliveryRecord:
        """A delivery the ledger had not seen, from its plan or its outcome."""
        return cls.model_validate(_identity(event))

    def planned_as(self, task: Planned) -> DeliveryRecord:
        """The plan arrived (an outcome that came first keeps its status)."""
        return self.model_copy(update=_identity(task) | {"planned": True})

    def completed(self, outcome: DeliveryCompleted) -> DeliveryRecord:
        """The delivery's outcome arrived."""
        return self.model_copy(
            update={
                "status": DeliveryState(outcome.status.value),
                "attempts": outcome.attempts,
                "completed_at": outcome.completed_at,
                "latency_seconds": outcome.latency_seconds,
                "response": outcome.response,
                "post_id": outcome.post_id,
            }
        )

    def retracted(self, status: DeliveryStatus) -> DeliveryRecord:
        """A retraction of the delivered post came to `status`."""
        return self.model_copy(update={"retraction": status})

    @property
    def delivered_at(self) -> datetime | None:
        """When it was delivered (None unless it was)."""
        return self.completed_at if self.status is DeliveryState.DELIVERED else None

    @property
    def counted_in(self) -> tuple[str, ...]:
        """The totals this delivery counts in."""
        state = self.status.counted_as
        return ("planned", state.value) if state in COUNTED else ("planned",)


def after_plan(before: DeliveryRecord | None, task: Planned) -> DeliveryRecord | None:
    """The delivery once its plan arrived; None when the plan changes nothing (a replay, or
    a plan of an older revision than the ledger holds). A later revision's plan makes the
    delivery pending again until that revision's outcome."""
    if before is None or task.revision > before.revision:
        return DeliveryRecord.first_seen(task).planned_as(task)
    if task.revision < before.revision or before.planned:
        return None
    return before.planned_as(task)  # its outcome came first and keeps its status


def after_outcome(
    before: DeliveryRecord | None, outcome: DeliveryCompleted
) -> DeliveryRecord | None:
    """The delivery once a publish outcome arrived; None when it changes nothing. An outcome
    of an older revision than the ledger holds, and a `superseded` one (a later revision
    replaced the task: its own outcome is the one that counts) of a delivery already final
    or replaced, change nothing."""
    if before is not None and outcome.revision < before.revision:
        return None
    if (
        outcome.status is DeliveryStatus.SUPERSEDED
        and before is not None
        and before.revision == outcome.revision
        and before.status is not DeliveryState.PENDING
    ):
        return None  # what it replaced had its outcome already
    record = before
    if record is None or outcome.revision > record.revision:
        planned = record is not None and record.planned  # an earlier revision was planned
        record = DeliveryRecord.first_seen(outcome).model_copy(update={"planned": planned})
    elif record.status == DeliveryState(outcome.status.value):
        return None
    return record.completed(outcome)


class AnnouncementRecord(_Record):
    """An announcement in the ledger, at its latest revision, with its deliveries' totals."""

    id: str
    title: str | None = None
    priority: str | None = None
    accepted_at: datetime | None = None
    regions_targeted: tuple[str, ...] = ()
    revision: int = 1
    #: when the latest revision (a correction) was published; None for revision 1
    revised_at: datetime | None = None
    #: when the router releases the last of its deliveries (None: stored before it was kept)
    release_by: datetime | None = None
    expires_at: datetime | None = None
    #: it names fallback kinds: a permanent failure may still bring a fallback delivery
    fallback: bool = False
    callback_url: str | None = None
    #: the NAME of the secret that signs the completion callback, never its value
    callback_secret: str | None = None
    cancelled: bool = False
    cancelled_at: datetime | None = None
    #: the latest revision whose completion metrics produced (0: none yet)
    completed_revision: int = 0
    #: the latest revision's completion is still to come (what `Announcements.overdue` finds)
    awaiting: bool = True
    #: None for a document stored before the ledger kept totals
    totals: Totals | None = None
    #: > 0 while a batch's totals may disagree with its deliveries (see ledger.py)
    unsettled: int = 0

    @field_serializer("accepted_at", "revised_at", "release_by", "expires_at", "cancelled_at")
    def _iso_times(self, value: datetime | None) -> str | None:
        return _iso(value)

    @classmethod
    def of(cls, event: AnnouncementAccepted | AnnouncementUpdated) -> AnnouncementRecord:
        a = event.announcement
        targeted = tuple(sorted(target_regions(a.target)))
        return cls(
            id=a.id,
            title=a.title,
            priority=a.priority.value,
            accepted_at=event.accepted_at,
            regions_targeted=targeted,
            revision=event.revision,
            revised_at=event.updated_at if isinstance(event, AnnouncementUpdated) else None,
            release_by=last_release(a, event.accepted_at, targeted),
            expires_at=a.expires_at,
            fallback=a.fallback is not None,
            callback_url=a.callback_url,
            callback_secret=a.callback_secret,
        )

    def described(self) -> dict[str, Any]:
        """The fields the announcement itself sets (a replay rewrites only these)."""
        return self.model_dump(mode="json", include=_DESCRIBED)

    @property
    def awaiting_completion(self) -> bool:
        """Its latest revision's completion is still to be produced."""
        return self.completed_revision < self.revision


_DESCRIBED = {
    "id", "title", "priority", "accepted_at", "regions_targeted", "revision", "revised_at",
    "release_by", "expires_at", "fallback", "callback_url", "callback_secret",
}  # fmt: skip
