"""A submission archived `pending` by a replica that crashed before producing it is published
by whichever replica sees it next: the client's retry, or the sweep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from siaran_ingest.archive import Archive, Outcome
from siaran_ingest.submissions import Submissions
from siaran_shared.auth import ApiKey
from siaran_shared.events import Announcement, AnnouncementAccepted, Event, Target, utcnow
from siaran_shared.store import Collection, open_store

KEY = ApiKey("k1", "ministry", "national", "hash", "2026-01-01T00:00:00+00:00")


def announcement(announcement_id: str) -> Announcement:
    return Announcement(
        id=announcement_id, title="Siaga banjir", body="Warga diminta waspada.",
        target=Target(provinces=("73",)),
    )  # fmt: skip


class Broker:
    """What a replica produced; `hang` holds every produce, as a broker that never confirms."""

    def __init__(self, *, hang: bool = False) -> None:
        self.published: list[Event] = []
        self.producing = asyncio.Event()
        self._hang = hang

    async def publish(self, event: Event) -> None:
        self.producing.set()
        if self._hang:
            await asyncio.Event().wait()
        self.published.append(event)

    def accepted_ids(self) -> list[str]:
        return [e.announcement.id for e in self.published if isinstance(e, AnnouncementAccepted)]


@pytest.fixture
async def announcements(tmp_path: Path) -> AsyncIterator[Collection]:
    store = open_store(f"sqlite:///{tmp_path / 'ingest.db'}", "ingest")
    await store.connect()
    try:
        yield store.collection("announcements", indexes=("accepted_at", "status"))
    finally:
        await store.close()


async def crash_between_write_and_produce(docs: Collection, announcement_id: str) -> None:
    """Replica A archives the submission, then dies before its produce is confirmed."""
    broker = Broker(hang=True)
    replica_a = Archive(Submissions(docs), broker.publish)
    submitting = asyncio.create_task(replica_a.submit(announcement(announcement_id), KEY))
    await broker.producing.wait()
    submitting.cancel()  # the process is gone: nothing after the store write ran
    with pytest.raises(asyncio.CancelledError):
        await submitting
    record = await docs.get(announcement_id)
    assert record is not None
    assert record["status"] == "pending"


async def test_retry_on_another_replica_publishes_a_crashed_pending_submission(
    announcements: Collection,
) -> None:
    await crash_between_write_and_produce(announcements, "banjir-1")
    broker = Broker()
    replica_b = Archive(Submissions(announcements), broker.publish)
    result = await replica_b.submit(announcement("banjir-1"), KEY)
    assert result.outcome is Outcome.DUPLICATE
    assert broker.accepted_ids() == ["banjir-1"], "a 202 with nothing published behind it"
    stored = await announcements.get("banjir-1")
    assert stored is not None
    assert stored["status"] == "accepted"
    again = await replica_b.submit(announcement("banjir-1"), KEY)
    assert again.outcome is Outcome.DUPLICATE
    assert broker.accepted_ids() == ["banjir-1"], "an accepted record is not published again"


async def test_sweep_publishes_a_crashed_pending_submission_nobody_retried(
    announcements: Collection,
) -> None:
    await crash_between_write_and_produce(announcements, "banjir-2")
    clock = [utcnow()]

    def now() -> datetime:
        return clock[0]

    broker = Broker()
    replica_b = Archive(Submissions(announcements), broker.publish, publish_timeout=10, now=now)
    assert await replica_b.sweep() == 0, "a first attempt may still be publishing elsewhere"
    assert broker.accepted_ids() == []
    clock[0] += timedelta(minutes=1)
    assert await replica_b.sweep() == 1
    assert broker.accepted_ids() == ["banjir-2"]
    assert await replica_b.sweep() == 0
    assert broker.accepted_ids() == ["banjir-2"]


async def test_a_failed_recovery_leaves_the_submission_pending_for_the_next_try(
    announcements: Collection,
) -> None:
    await crash_between_write_and_produce(announcements, "banjir-3")

    async def down(event: Event) -> None:
        raise RuntimeError("broker down")

    with pytest.raises(Exception, match="broker down"):
        await Archive(Submissions(announcements), down).submit(announcement("banjir-3"), KEY)
    stored = await announcements.get("banjir-3")
    assert stored is not None
    assert stored["status"] == "pending"
    broker = Broker()
    await Archive(Submissions(announcements), broker.publish).submit(announcement("banjir-3"), KEY)
    assert broker.accepted_ids() == ["banjir-3"]
