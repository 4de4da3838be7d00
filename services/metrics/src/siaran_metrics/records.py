"""The ledger's records: one per delivery, one per announcement with its totals. Frozen; a
transition returns a new record. Stored as they always were (ISO-8601 times, status strings),
so a ledger written by an earlier version reads the same."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer
from siaran_shared.events import (
    AnnouncementAccepted,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)
from siaran_shared.regions import target_regions


class DeliveryState(StrEnum):
    """A delivery in the ledger: pending until an outcome arrives, then the outcome's."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SKIPPED = "skipped"
    RETRACTED = "retracted"  # only ever a retraction's outcome; never counted in totals


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
        counts = {str(s): n for s, n in by_state.items()}
        return cls(planned=sum(by_state.values()), **{s: counts.get(s, 0) for s in COUNTED})

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
    return value.isoformat() if value is not None else None


def _identity(event: DeliveryPlanned | DeliveryCompleted) -> dict[str, str]:
    """Which delivery an event is about (read from its attributes: the hot path)."""
    return {
        "delivery_id": event.delivery_id,
        "announcement_id": event.announcement_id,
        "channel_id": event.channel_id,
        "region": event.region,
        "province": event.province,
        "kind": event.kind,
    }


class DeliveryRecord(_Record):
    """One delivery as the ledger knows it: planned, and its latest outcome."""

    delivery_id: str
    announcement_id: str
    channel_id: str
    region: str
    province: str
    kind: str
    planned: bool = False
    status: DeliveryState = DeliveryState.PENDING
    attempts: int | None = None
    completed_at: datetime | None = None
    latency_seconds: float | None = None
    response: str | None = None
    retraction: DeliveryStatus | None = None

    @field_serializer("completed_at")
    def _iso_completed_at(self, value: datetime | None) -> str | None:
        return _iso(value)

    @classmethod
    def first_seen(cls, event: DeliveryPlanned | DeliveryCompleted) -> DeliveryRecord:
        """A delivery the ledger had not seen, from its plan or its outcome."""
        return cls.model_validate(_identity(event))

    def planned_as(self, task: DeliveryPlanned) -> DeliveryRecord:
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
            }
        )

    def retracted(self, status: DeliveryStatus) -> DeliveryRecord:
        """A retraction of the delivered post came to `status`."""
        return self.model_copy(update={"retraction": status})

    @property
    def counted_in(self) -> tuple[str, ...]:
        """The totals this delivery counts in."""
        return ("planned", self.status.value) if self.status in COUNTED else ("planned",)


class AnnouncementRecord(_Record):
    """An announcement in the ledger, with its deliveries' totals."""

    id: str
    title: str | None = None
    priority: str | None = None
    accepted_at: datetime | None = None
    regions_targeted: tuple[str, ...] = ()
    cancelled: bool = False
    #: None for a document stored before the ledger kept totals
    totals: Totals | None = None
    #: > 0 while a batch's totals may disagree with its deliveries (see ledger.py)
    unsettled: int = 0

    @field_serializer("accepted_at")
    def _iso_accepted_at(self, value: datetime | None) -> str | None:
        return _iso(value)

    @classmethod
    def of(cls, event: AnnouncementAccepted) -> AnnouncementRecord:
        a = event.announcement
        return cls(
            id=a.id,
            title=a.title,
            priority=a.priority.value,
            accepted_at=event.accepted_at,
            regions_targeted=tuple(sorted(target_regions(a.target))),
        )

    def described(self) -> dict[str, Any]:
        """The fields the announcement itself sets (a replay rewrites only these)."""
        return self.model_dump(
            mode="json", include={"id", "title", "priority", "accepted_at", "regions_targeted"}
        )
