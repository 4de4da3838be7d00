"""Event factories and a ledger on a temporary SQLite store, for the metrics tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from siaran_metrics.ledger import Ledger
from siaran_metrics.ledger_store import Announcements, Deliveries
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Target,
    utcnow,
)
from siaran_shared.store import open_store


class LedgerOnDisk:
    """A Ledger over a fresh SQLite file (usable outside fixtures, e.g. under hypothesis)."""

    def __init__(self, home: Path) -> None:
        self.store = open_store(f"sqlite:///{home / 'metrics.db'}", "metrics")

    async def __aenter__(self) -> Ledger:
        await self.store.connect()
        return Ledger(
            Deliveries(self.store.collection("deliveries", indexes=("announcement_id", "status"))),
            Announcements(self.store.collection("announcements", indexes=("accepted_at",))),
        )

    async def __aexit__(self, *_: object) -> None:
        await self.store.close()


ACCEPTED_AT = utcnow()
CHANNELS = {"bantaeng-web": "73.03", "bantaeng-x": "73.03", "makassar-web": "73.71"}

Event = AnnouncementAccepted | DeliveryPlanned | DeliveryCompleted


def accepted(announcement_id: str = "a1") -> AnnouncementAccepted:
    return AnnouncementAccepted(
        announcement=Announcement(
            id=announcement_id, title="Judul", body="Isi", target=Target(provinces=("73",))
        ),
        accepted_at=ACCEPTED_AT,
        submitted_by="test",
    )


def planned(channel_id: str, announcement_id: str = "a1") -> DeliveryPlanned:
    region = CHANNELS[channel_id]
    return DeliveryPlanned(
        delivery_id=f"{announcement_id}:{channel_id}",
        announcement_id=announcement_id,
        channel_id=channel_id,
        region=region,
        province="73",
        kind=channel_id.rsplit("-", 1)[1],
        endpoint=f"https://example.go.id/{channel_id}",
        title="Judul",
        text="Isi",
        accepted_at=ACCEPTED_AT,
    )


def plan(*tasks: DeliveryPlanned) -> DeliveriesPlanned:
    """The router's plan summary of `tasks` (one announcement revision), as metrics reads it."""
    (summary,) = DeliveriesPlanned.of(tasks)
    return summary


def outcome(
    channel_id: str,
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
    announcement_id: str = "a1",
    after: float = 2.0,
) -> DeliveryCompleted:
    task = planned(channel_id, announcement_id)
    return DeliveryCompleted(
        delivery_id=task.delivery_id,
        announcement_id=announcement_id,
        channel_id=channel_id,
        region=task.region,
        province=task.province,
        kind=task.kind,
        status=status,
        attempts=1,
        accepted_at=ACCEPTED_AT,
        completed_at=ACCEPTED_AT + timedelta(seconds=after),
        latency_seconds=after if status is DeliveryStatus.DELIVERED else None,
    )


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    async with LedgerOnDisk(tmp_path) as led:
        yield led


@pytest.fixture(autouse=True)
def _accepted_when_the_test_starts(make: SimpleNamespace) -> None:
    """Each test's events are accepted as it starts, so the waits measured from them (the
    30 s a permanent failure waits for its fallback) start with the test, not with the
    session: a suite running long made a failure look 50 s old, and complete at once."""
    global ACCEPTED_AT
    ACCEPTED_AT = utcnow()
    make.ACCEPTED_AT = ACCEPTED_AT


@pytest.fixture(scope="session")
def make() -> SimpleNamespace:
    """The event factories, for test modules (which cannot import each other)."""
    return SimpleNamespace(
        ACCEPTED_AT=ACCEPTED_AT,
        accepted=accepted,
        planned=planned,
        plan=plan,
        outcome=outcome,
        ledger_on_disk=LedgerOnDisk,
    )
