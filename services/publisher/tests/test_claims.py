"""Never twice, when the store fails: an outcome whose write failed is written again by the
next copy of the task, never sent a second time once the claim's lease runs out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from siaran_publisher.claims import INDEXES, Begun, Claim, Claims, ClaimState, Superseded
from siaran_shared.events import DeliveryCompleted, DeliveryStatus, utcnow
from siaran_shared.store import Collection, StoreUnavailable, open_store

from .conftest import Harness, ScriptedReceiver, task


async def test_a_failed_outcome_write_never_becomes_a_second_post(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/once", 200, 200)
    harness.docs.failures = 1  # the outcome's write, after the post
    with pytest.raises(StoreUnavailable):  # the consumer handles the record again, later
        await harness.deliverer.handle(task(url))
    assert len(receiver.at("/once")) == 1
    again = await harness.deliverer.handle(task(url))  # the consumer's next try
    assert [o.status for o in again.results] == [DeliveryStatus.DELIVERED]
    # long after the claim's lease: nothing left to re-queue, nothing posted again
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=10)) == 0
    assert harness.requeued == []
    assert len(receiver.at("/once")) == 1


async def test_an_outcome_stays_unrecorded_while_the_store_is_down_and_is_never_resent(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/down", 200, 200)
    harness.docs.failures = 3  # the outcome's write and the next two tries of it
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await harness.deliverer.handle(task(url))
    [outcome] = (await harness.deliverer.handle(task(url))).results
    assert outcome.status is DeliveryStatus.DELIVERED
    assert outcome.attempts == 1
    assert len(receiver.at("/down")) == 1


@pytest.fixture
async def docs(tmp_path: Path) -> AsyncIterator[Collection]:
    store = open_store(f"sqlite:///{tmp_path / 'claims.db'}", "publisher")
    await store.connect()
    try:
        yield store.collection("deliveries", INDEXES)
    finally:
        await store.close()


async def test_a_requeued_copy_arriving_before_the_queued_mark_is_still_claimed(
    docs: Collection,
) -> None:
    now = utcnow()
    planned = task("https://example.go.id/hook")
    waiting = Claim(key="d1", state=ClaimState.WAITING, due=now - timedelta(seconds=1),
                    attempts=1, version=3, task=planned)  # fmt: skip
    await docs.put("d1", waiting.doc())

    class SchedulerMarksMeanwhile:
        """The scheduler's "queued" mark lands between the claim's read and its write."""

        def __getattr__(self, name: str) -> Any:
            return getattr(docs, name)

        async def update(self, key: str, changes: Any, *, where: Any = None) -> bool:
            if where == {"v": 3}:
                await docs.update(key, {"state": "queued", "v": 4}, where={"v": 3})
            return await docs.update(key, changes, where=where)

    claims = Claims(SchedulerMarksMeanwhile(), "test:1", timedelta(seconds=30))  # type: ignore[arg-type]
    begun, claim = await claims.begin("d1", planned, now)
    assert begun is Begun.CLAIMED
    assert claim is not None
    assert claim.attempts == 1
    stored = await claims.get("d1")
    assert stored is not None
    assert stored.state is ClaimState.CLAIMED
    assert stored.version == 5


def test_a_claim_is_stored_as_the_store_compares_it() -> None:
    now = utcnow()
    claim = Claim(key="k", state=ClaimState.WAITING, due=now, version=2)
    doc = claim.doc()
    assert doc["due"] == now.isoformat()  # text that sorts as the times do
    assert doc["v"] == 2
    assert doc["state"] == "waiting"
    assert "outcome" not in doc  # what has no value is left out of a whole record
    assert Claim.model_validate(doc) == claim
    assert claim.doc("state", "lease_until") == {"state": "waiting", "lease_until": None}


async def test_a_record_whose_task_no_longer_reads_still_decides_who_sends(
    docs: Collection,
) -> None:
    now = utcnow()
    planned = task("https://example.go.id/hook")
    due = (now - timedelta(seconds=1)).isoformat()
    stale = {"key": "d1", "state": "waiting", "v": 2, "attempts": 2, "due": due,
             "task": {"from": "elsewhere"}}  # fmt: skip
    await docs.put("d1", stale)
    claims = Claims(docs, "test:1", timedelta(seconds=30))
    begun, claim = await claims.begin("d1", planned, now)
    assert begun is Begun.CLAIMED  # sent with the task in hand, not dropped
    assert claim is not None
    assert claim.attempts == 2
    assert claim.task == planned


async def test_done_and_cancelled_claims_carry_the_time_retention_counts_from(
    docs: Collection,
) -> None:
    """Retention prunes claims by `final_at`: every way a claim ends sets it (a cancelled
    claim used to keep only `at`, so it was never pruned)."""
    now = utcnow()
    claims = Claims(docs, "test:1", timedelta(seconds=30))
    planned = task("https://example.go.id/hook")
    begun, claim = await claims.begin("sent", planned, now)
    assert begun is Begun.CLAIMED
    assert claim is not None
    outcome = DeliveryCompleted.of(planned, DeliveryStatus.DELIVERED, attempts=1, response="200")
    await claims.finish(claim, outcome)
    await claims.cancel_pending("never-sent", now)
    waiting = Claim(key="waiting", state=ClaimState.WAITING, due=now, task=planned, version=1)
    await docs.put("waiting", waiting.doc())
    await claims.cancel_pending("waiting", now)
    for key in ("sent", "never-sent", "waiting"):
        stored = await claims.get(key)
        assert stored is not None
        assert stored.final_at is not None, key


async def test_a_correction_stops_a_revision_left_claimed_by_a_crashed_instance(
    docs: Collection,
) -> None:
    now = utcnow()
    crashed = Claims(docs, "crashed:1", timedelta(seconds=30))
    first = task("https://x.test")
    begun, _ = await crashed.begin("a1:bantaeng-web", first, now)
    assert begun is Begun.CLAIMED
    restarted = Claims(docs, "restarted:2", timedelta(seconds=30))
    second = task("https://x.test", revision=2)
    # within the crashed instance's lease it may still be sending: the correction waits
    state, _ = await restarted.supersede("a1:bantaeng-web", first, 2, now)
    assert state is Superseded.SENDING
    # once the lease ran out it is stopped, never sent again, and says what replaced it
    later = now + timedelta(seconds=31)
    state, stopped = await restarted.supersede("a1:bantaeng-web", first, 2, later)
    assert state is Superseded.STOPPED
    assert stopped.outcome is not None
    assert stopped.outcome.status is DeliveryStatus.SUPERSEDED
    begun, claim = await restarted.begin("a1:bantaeng-web", first, later)
    assert (begun, claim and claim.state) == (Begun.DONE, ClaimState.DONE)
    begun, _ = await restarted.begin("a1:bantaeng-web:r2", second, later)
    assert begun is Begun.CLAIMED
