"""The ledger: idempotent under replays, indifferent to the order plans and outcomes arrive."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_metrics.ledger import Ledger
from siaran_metrics.records import COUNTED, DeliveryState, Totals
from siaran_metrics.reports import announcement_report, announcement_summary
from siaran_shared.events import (
    AnnouncementAccepted,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)

Event = AnnouncementAccepted | DeliveryPlanned | DeliveryCompleted


async def apply(ledger: Ledger, events: Sequence[Event]) -> None:
    """Feed events one batch per event, as separate consumer batches would."""
    for e in events:
        if isinstance(e, AnnouncementAccepted):
            await ledger.record_announcements([e])
        elif isinstance(e, DeliveryPlanned):
            await ledger.record_planned([e])
        else:
            await ledger.record_outcomes([e])


async def report(ledger: Ledger, announcement_id: str = "a1") -> dict[str, Any]:
    """The report as the API makes it, from pages of two records (every report test crosses
    pages), checked against the report of all the records read at once."""
    record = await ledger.announcements.get(announcement_id)
    paged = await ledger.deliveries.tally(announcement_id, page=2)
    whole = await ledger.deliveries.of_announcement(announcement_id)
    assert paged.count == len(whole)
    made = announcement_report(announcement_id, record, paged)
    assert made == announcement_report(announcement_id, record, whole)
    return made.model_dump(mode="json")


async def summary_of(ledger: Ledger, announcement_id: str = "a1") -> dict[str, Any]:
    record = await ledger.announcements.get(announcement_id)
    assert record is not None
    return announcement_summary(record).model_dump(mode="json")


async def totals_of(ledger: Ledger, announcement_id: str = "a1") -> Totals:
    record = await ledger.announcements.get(announcement_id)
    assert record is not None
    assert record.totals is not None
    return record.totals


def story(make: SimpleNamespace) -> list[Event]:
    """An announcement to three channels: one delivered, one failed, one pending."""
    return [
        make.accepted(),
        make.planned("bantaeng-web"),
        make.planned("bantaeng-x"),
        make.planned("makassar-web"),
        make.outcome("bantaeng-web", after=1.0),
        make.outcome("bantaeng-x", DeliveryStatus.FAILED),
    ]


async def test_report_counts_plans_and_outcomes(ledger: Ledger, make: SimpleNamespace) -> None:
    await apply(ledger, story(make))
    r = await report(ledger)
    assert (r["planned"], r["delivered"], r["failed"], r["pending"]) == (3, 1, 1, 1)
    assert r["regions_reached"] == 1
    assert r["by_kind"] == {
        "web": {"delivered": 1, "pending": 1, "total": 2},
        "x": {"failed": 1, "total": 1},
    }
    assert r["first_delivered_at"] == (make.ACCEPTED_AT + timedelta(seconds=1)).isoformat()
    assert r["complete"] is False


async def test_report_has_every_contract_field(ledger: Ledger, make: SimpleNamespace) -> None:
    await apply(ledger, story(make))
    r = await report(ledger)
    contract = {"id", "planned", "delivered", "failed", "pending", "cancelled",
                "regions_targeted", "regions_reached", "by_kind", "by_province",
                "first_delivered_at", "last_delivered_at"}  # fmt: skip
    assert contract <= set(r)
    assert r["id"] == "a1"
    assert isinstance(r["regions_targeted"], int)
    assert r["regions_targeted"] > 1


async def test_replaying_everything_changes_nothing(ledger: Ledger, make: SimpleNamespace) -> None:
    await apply(ledger, story(make))
    first = await report(ledger)
    summary = await summary_of(ledger)
    await apply(ledger, story(make))
    assert await ledger.record_outcomes([make.outcome("bantaeng-web", after=1.0)]) == []
    assert await report(ledger) == first
    assert await summary_of(ledger) == summary


async def test_outcome_before_its_plan_is_kept(ledger: Ledger, make: SimpleNamespace) -> None:
    await apply(
        ledger, [make.outcome("makassar-web"), make.planned("makassar-web"), make.accepted()]
    )
    r = await report(ledger)
    assert (r["planned"], r["delivered"], r["pending"]) == (1, 1, 0)
    assert r["complete"] is True


async def test_retraction_outcome_does_not_undo_delivery(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await apply(ledger, story(make))
    retracted = make.outcome("bantaeng-web").model_copy(
        update={"action": DeliveryAction.RETRACT, "status": DeliveryStatus.DELIVERED}
    )
    assert await ledger.record_outcomes([retracted]) == []
    assert (await report(ledger))["delivered"] == 1


async def test_summary_totals_follow_the_deliveries(ledger: Ledger, make: SimpleNamespace) -> None:
    await apply(ledger, story(make))
    summary = await summary_of(ledger)
    assert summary["planned"] == 3
    assert (summary["delivered"], summary["failed"], summary["pending"]) == (1, 1, 1)
    assert summary["complete"] is False
    await apply(ledger, [make.outcome("makassar-web")])
    summary = await summary_of(ledger)
    assert (summary["delivered"], summary["pending"], summary["complete"]) == (2, 0, True)
    assert await ledger.deliveries.pending() == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(6)), replays=st.lists(st.integers(0, 5), max_size=6))
def test_any_order_with_replays_gives_the_same_report(
    make: SimpleNamespace, order: list[int], replays: list[int]
) -> None:
    events = story(make)

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        with tempfile.TemporaryDirectory() as home:
            async with make.ledger_on_disk(Path(home)) as led:
                await apply(led, [events[i] for i in [*order, *replays]])
                return await report(led), await summary_of(led)

    async def reference() -> tuple[dict[str, Any], dict[str, Any]]:
        with tempfile.TemporaryDirectory() as home:
            async with make.ledger_on_disk(Path(home)) as led:
                await apply(led, events)
                return await report(led), await summary_of(led)

    assert asyncio.run(run()) == asyncio.run(reference())


# Totals kept by increments: always what a recount of the deliveries gives.

ANNOUNCEMENTS = ("a1", "a2")


async def recounted(ledger: Ledger, announcement_id: str) -> dict[str, int]:
    """The totals counted afresh from the announcement's delivery documents."""
    docs = await ledger.deliveries.docs.find({"announcement_id": announcement_id})
    by_status = Counter(DeliveryState(d["status"]).counted_as for d in docs)
    return {"planned": len(docs)} | {s.value: by_status[s] for s in COUNTED}


async def assert_totals_match_the_deliveries(ledger: Ledger) -> None:
    for doc in await ledger.announcements.docs.find():
        assert doc["totals"] == await recounted(ledger, doc["id"]), doc["id"]
        assert doc.get("unsettled", 0) in (0, 1)  # 1: changed by the last batch
        counts = {k: v for k, v in (await report(ledger, doc["id"])).items() if k in doc["totals"]}
        summary = await summary_of(ledger, doc["id"])
        assert {k: summary[k] for k in counts} == counts


async def unsettled(ledger: Ledger, announcement_id: str) -> int:
    record = await ledger.announcements.get(announcement_id)
    assert record is not None
    return record.unsettled


async def apply_in_batches(ledger: Ledger, events: Sequence[Event], sizes: Sequence[int]) -> None:
    """Feed events in consumer batches of these sizes, each handled as the service does:
    announcements, then plans, then outcomes."""
    start, n = 0, 0
    while start < len(events):
        size = sizes[n % len(sizes)] if sizes else 1
        batch, start, n = events[start : start + size], start + size, n + 1
        await ledger.record_announcements([e for e in batch if isinstance(e, AnnouncementAccepted)])
        await ledger.record_planned([e for e in batch if isinstance(e, DeliveryPlanned)])
        await ledger.record_outcomes([e for e in batch if isinstance(e, DeliveryCompleted)])


def event_pool(make: SimpleNamespace) -> list[Event]:
    """Announcements, plans and outcomes of several statuses (a delivery's status may change
    more than once: a reopened failure delivered later), retractions, and a correction."""
    pool: list[Event] = [make.accepted(a) for a in ANNOUNCEMENTS]
    statuses = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED,
                DeliveryStatus.CANCELLED, DeliveryStatus.RETRACTED)  # fmt: skip
    for a in ANNOUNCEMENTS:
        for channel_id in ("bantaeng-web", "bantaeng-x", "makassar-web"):
            pool.append(make.planned(channel_id, a))
            pool.extend(make.outcome(channel_id, s, announcement_id=a) for s in statuses)
            retracted = make.outcome(channel_id, announcement_id=a).model_copy(
                update={"action": DeliveryAction.RETRACT}
            )
            pool.append(retracted)
            # a correction: revision 2's plan and outcome, and revision 1 superseded
            again = {"revision": 2}
            pool.append(make.planned(channel_id, a).model_copy(update=again))
            pool.append(make.outcome(channel_id, announcement_id=a).model_copy(update=again))
            pool.append(make.outcome(channel_id, DeliveryStatus.SUPERSEDED, announcement_id=a))
    return pool


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_totals_equal_a_recount_after_any_order_and_duplication(
    make: SimpleNamespace, data: st.DataObject
) -> None:
    pool = event_pool(make)
    picks = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=40))
    sizes = data.draw(st.lists(st.integers(1, 8), max_size=5))
    events = [pool[i] for i in picks]

    async def run() -> None:
        with tempfile.TemporaryDirectory() as home:
            async with make.ledger_on_disk(Path(home)) as led:
                await apply_in_batches(led, events, sizes)
                await assert_totals_match_the_deliveries(led)
                # and once more, every event replayed in another batching
                await apply_in_batches(led, events, [len(events)])
                await assert_totals_match_the_deliveries(led)

    asyncio.run(run())


async def test_deliveries_before_their_announcement_are_counted_once(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await apply(ledger, [make.planned("bantaeng-web"), make.outcome("bantaeng-x")])
    # the announcement and more deliveries in one batch, as the consumer handles it
    await apply_in_batches(ledger, [make.planned("makassar-web"), make.accepted()], [2])
    totals = await totals_of(ledger)
    assert (totals.planned, totals.pending, totals.delivered) == (3, 2, 1)
    await assert_totals_match_the_deliveries(ledger)


@pytest.mark.parametrize("restart", [True, False], ids=["restarted", "same-ledger"])
async def test_totals_added_but_deliveries_not_written_are_recounted(
    ledger: Ledger, make: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, restart: bool
) -> None:
    await apply(ledger, story(make))

    async def crash(docs: Mapping[str, dict[str, Any]]) -> None:
        raise ConnectionError("the store went away (or the process died) here")

    monkeypatch.setattr(ledger.deliveries.docs, "put_many", crash)
    with pytest.raises(ConnectionError):
        await ledger.record_outcomes([make.outcome("makassar-web")])
    monkeypatch.undo()
    record = await ledger.announcements.get("a1")
    assert record is not None
    assert record.totals is not None
    assert record.totals.delivered == 2  # counted, but the delivery was never written
    assert record.unsettled == 1

    # The consumer replays the batch: after a restart (the same store, a new ledger) or at
    # once (the batch was nacked).
    again = Ledger(ledger.deliveries, ledger.announcements) if restart else ledger
    assert len(await again.record_outcomes([make.outcome("makassar-web")])) == 1
    await assert_totals_match_the_deliveries(again)
    totals = await totals_of(again)
    assert (totals.delivered, totals.pending) == (2, 0)


async def test_a_write_failing_after_the_deliveries_counts_them_once(
    ledger: Ledger, make: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(ledger, story(make))
    put_many = ledger.deliveries.docs.put_many

    async def written_then_lost(docs: Mapping[str, dict[str, Any]]) -> None:
        await put_many(docs)
        raise ConnectionError("the connection dropped after the commit")

    monkeypatch.setattr(ledger.deliveries.docs, "put_many", written_then_lost)
    with pytest.raises(ConnectionError):
        await ledger.record_outcomes([make.outcome("makassar-web", DeliveryStatus.FAILED)])
    monkeypatch.undo()
    # the replayed batch changes no delivery, and its totals were added before the write
    assert await ledger.record_outcomes([make.outcome("makassar-web", DeliveryStatus.FAILED)]) == []
    await assert_totals_match_the_deliveries(ledger)
    totals = await totals_of(ledger)
    assert (totals.failed, totals.pending) == (2, 0)


async def test_marks_are_cleared_by_the_next_batch_and_recounted_after_a_stop(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await apply(ledger, [make.accepted("a1"), make.accepted("a2"), make.planned("bantaeng-web")])
    assert await unsettled(ledger, "a1") == 1
    await apply(ledger, [make.planned("bantaeng-web", "a2")])
    assert await unsettled(ledger, "a1") == 0
    assert await unsettled(ledger, "a2") == 1
    # a stop after that batch: a new ledger recounts the one announcement still marked
    restarted = Ledger(ledger.deliveries, ledger.announcements)
    assert await restarted.settle() == 1
    assert await unsettled(ledger, "a2") == 0
    await assert_totals_match_the_deliveries(restarted)


async def test_an_announcement_stored_without_totals_gets_them_on_replay(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await apply(ledger, story(make))
    doc = await ledger.announcements.docs.get("a1") or {}
    await ledger.announcements.docs.put("a1", {k: v for k, v in doc.items() if k != "totals"})
    await apply(ledger, [make.accepted()])
    await assert_totals_match_the_deliveries(ledger)


async def test_recent_reads_past_a_page_of_announcements_the_reader_may_not_see(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    events = []
    for i in range(450):  # more than two pages; the visible ones are the oldest
        e = make.accepted(f"r{i:03}")
        events.append(e.model_copy(update={"accepted_at": e.accepted_at + timedelta(seconds=i)}))
    await ledger.record_announcements(events)
    since = make.ACCEPTED_AT.isoformat()
    visible = {"r000", "r001", "r002"}
    found = await ledger.announcements.recent(since, 50, lambda r: r.id in visible)
    assert [r.id for r in found] == ["r002", "r001", "r000"]
    newest = await ledger.announcements.recent(since, 5)
    assert [r.id for r in newest] == ["r449", "r448", "r447", "r446", "r445"]


async def test_report_reads_the_ledgers_totals_and_recounts_only_unsettled_ones(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await apply(ledger, story(make))
    doc = await ledger.announcements.docs.get("a1") or {}
    doc["totals"]["delivered"] = 99  # a stand-in: shows where the report's figure comes from
    await ledger.announcements.docs.put("a1", doc)
    assert await unsettled(ledger, "a1") == 1  # changed by the last batch: recounted
    assert (await report(ledger))["delivered"] == 1
    await apply(ledger, [make.planned("bantaeng-web", "a2")])  # the next batch settles a1
    assert await unsettled(ledger, "a1") == 0
    assert (await report(ledger))["delivered"] == 99
