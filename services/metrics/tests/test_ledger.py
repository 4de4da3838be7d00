"""The ledger: idempotent under replays, indifferent to the order plans and outcomes arrive."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_metrics.ledger import Ledger
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
    doc = await ledger.announcements.get(announcement_id)
    deliveries = await ledger.deliveries.find({"announcement_id": announcement_id})
    return announcement_report(announcement_id, doc, deliveries)


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
    summary = announcement_summary(await ledger.announcements.get("a1") or {})
    await apply(ledger, story(make))
    assert await ledger.record_outcomes([make.outcome("bantaeng-web", after=1.0)]) == []
    assert await report(ledger) == first
    assert announcement_summary(await ledger.announcements.get("a1") or {}) == summary


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
    summary = announcement_summary(await ledger.announcements.get("a1") or {})
    assert summary["planned"] == 3
    assert (summary["delivered"], summary["failed"], summary["pending"]) == (1, 1, 1)
    assert summary["complete"] is False
    await apply(ledger, [make.outcome("makassar-web")])
    summary = announcement_summary(await ledger.announcements.get("a1") or {})
    assert (summary["delivered"], summary["pending"], summary["complete"]) == (2, 0, True)
    assert await ledger.pending() == 0


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
                doc = await led.announcements.get("a1") or {}
                return await report(led), announcement_summary(doc)

    async def reference() -> tuple[dict[str, Any], dict[str, Any]]:
        with tempfile.TemporaryDirectory() as home:
            async with make.ledger_on_disk(Path(home)) as led:
                await apply(led, events)
                doc = await led.announcements.get("a1") or {}
                return await report(led), announcement_summary(doc)

    assert asyncio.run(run()) == asyncio.run(reference())
