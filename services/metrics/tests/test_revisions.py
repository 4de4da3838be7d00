"""The ledger counts each delivery at its latest revision, and shows fallbacks."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_metrics.ledger import Ledger
from siaran_metrics.reports import announcement_report
from siaran_shared.events import (
    AnnouncementUpdated,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    utcnow,
)

DELIVERED, FAILED, SUPERSEDED = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.SUPERSEDED,
)


def plan(make: SimpleNamespace, channel_id: str, revision: int = 1, **more: Any) -> DeliveryPlanned:
    task: DeliveryPlanned = make.planned(channel_id)
    return task.model_copy(update={"revision": revision} | more)


def done(
    make: SimpleNamespace, channel_id: str, status: DeliveryStatus, revision: int = 1, **more: Any
) -> DeliveryCompleted:
    outcome: DeliveryCompleted = make.outcome(channel_id, status)
    return outcome.model_copy(update={"revision": revision} | more)


async def report(ledger: Ledger) -> dict[str, Any]:
    record = await ledger.announcements.get("a1")
    deliveries = await ledger.deliveries.of_announcement("a1")
    counted = announcement_report("a1", record, deliveries).model_dump(mode="json")
    # the totals the ledger keeps equal a recount of its records
    assert record is not None
    assert record.totals == await ledger.deliveries.count("a1")
    return counted


def counts(r: dict[str, Any]) -> tuple[int, int, int, int]:
    return r["planned"], r["delivered"], r["failed"], r["pending"]


async def test_a_later_revisions_plan_makes_a_delivered_one_pending_until_its_outcome(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-web"), plan(make, "bantaeng-x")])
    await ledger.record_outcomes([done(make, "bantaeng-web", DELIVERED)])
    await ledger.record_outcomes([done(make, "bantaeng-x", FAILED)])
    assert counts(await report(ledger)) == (2, 1, 1, 0)

    await ledger.record_planned([plan(make, "bantaeng-web", 2), plan(make, "bantaeng-x", 2)])
    assert counts(await report(ledger)) == (2, 0, 0, 2)
    await ledger.record_outcomes([done(make, "bantaeng-web", DELIVERED, 2)])
    await ledger.record_outcomes([done(make, "bantaeng-x", DELIVERED, 2)])
    assert counts(await report(ledger)) == (2, 2, 0, 0)
    records = await ledger.deliveries.of_announcement("a1")
    assert {r.revision for r in records} == {2}


async def test_a_superseded_outcome_is_neither_final_nor_failed(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-web")])
    changed = await ledger.record_outcomes([done(make, "bantaeng-web", SUPERSEDED)])
    assert changed == []
    r = await report(ledger)
    assert counts(r) == (1, 0, 0, 1)
    assert r["complete"] is False
    # the superseded outcome arriving after the next revision's plan changes nothing either
    await ledger.record_planned([plan(make, "bantaeng-web", 2)])
    await ledger.record_outcomes([done(make, "bantaeng-web", SUPERSEDED)])
    assert counts(await report(ledger)) == (1, 0, 0, 1)


async def test_outcomes_and_plans_of_an_older_revision_change_nothing(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-web", 2)])
    await ledger.record_outcomes([done(make, "bantaeng-web", FAILED, 1)])
    await ledger.record_planned([plan(make, "bantaeng-web", 1)])  # replayed, late
    assert counts(await report(ledger)) == (1, 0, 0, 1)
    await ledger.record_outcomes([done(make, "bantaeng-web", DELIVERED, 2)])
    await ledger.record_outcomes([done(make, "bantaeng-web", FAILED, 1)])
    assert counts(await report(ledger)) == (1, 1, 0, 0)


async def test_one_batch_with_both_revisions_counts_the_latest(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-web"), plan(make, "bantaeng-web", 2)])
    await ledger.record_outcomes(
        [done(make, "bantaeng-web", DELIVERED, 2), done(make, "bantaeng-web", SUPERSEDED, 1)]
    )
    assert counts(await report(ledger)) == (1, 1, 0, 0)


async def test_the_outcome_of_a_later_revision_before_its_plan_is_kept(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-web")])
    await ledger.record_outcomes([done(make, "bantaeng-web", DELIVERED, 2, post_id="p-9")])
    await ledger.record_planned([plan(make, "bantaeng-web", 2)])
    assert counts(await report(ledger)) == (1, 1, 0, 0)
    [record] = await ledger.deliveries.of_announcement("a1")
    assert (record.revision, record.post_id, record.planned) == (2, "p-9", True)


async def test_an_update_raises_the_announcements_revision_and_a_replay_does_not_lower_it(
    ledger: Ledger, make: SimpleNamespace
) -> None:
    accepted = make.accepted()
    updated = AnnouncementUpdated(
        announcement=accepted.announcement.model_copy(update={"title": "Ralat"}),
        revision=2,
        accepted_at=accepted.accepted_at,
        updated_at=utcnow(),
        updated_by="editor",
        submitted_by="writer",
    )
    await ledger.record_announcements([accepted])
    await ledger.record_announcements([updated])
    await ledger.record_announcements([accepted])  # a replay of revision 1
    record = await ledger.announcements.get("a1")
    assert record is not None
    assert (record.revision, record.title) == (2, "Ralat")
    assert (await report(ledger))["revision"] == 2


async def test_fallbacks_are_counted_and_shown(ledger: Ledger, make: SimpleNamespace) -> None:
    await ledger.record_announcements([make.accepted()])
    await ledger.record_planned([plan(make, "bantaeng-x")])
    await ledger.record_outcomes([done(make, "bantaeng-x", FAILED)])
    fallback = {"fallback_of": "a1:bantaeng-x"}
    await ledger.record_planned([plan(make, "bantaeng-web", **fallback)])
    r = await report(ledger)
    assert (counts(r), r["fallbacks"]) == ((2, 0, 1, 1), {"planned": 1, "delivered": 0})
    await ledger.record_outcomes([done(make, "bantaeng-web", DELIVERED, **fallback)])
    r = await report(ledger)
    assert (counts(r), r["fallbacks"]) == ((2, 1, 1, 0), {"planned": 1, "delivered": 1})
    [web] = [d for d in await ledger.deliveries.of_announcement("a1") if d.kind == "web"]
    assert web.fallback_of == "a1:bantaeng-x"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(5)), replays=st.lists(st.integers(0, 4), max_size=4))
def test_a_correction_in_any_order_with_replays_ends_at_revision_2s_outcome(
    make: SimpleNamespace, order: list[int], replays: list[int]
) -> None:
    """Revision 1 planned, failed or superseded; revision 2 planned and delivered: whatever
    the order the ledger hears it in, it ends at revision 2, delivered."""
    events: list[DeliveryPlanned | DeliveryCompleted] = [
        plan(make, "bantaeng-web"),
        done(make, "bantaeng-web", FAILED),
        done(make, "bantaeng-web", SUPERSEDED),
        plan(make, "bantaeng-web", 2),
        done(make, "bantaeng-web", DELIVERED, 2),
    ]

    async def run() -> tuple[dict[str, Any], tuple[int, bool]]:
        with tempfile.TemporaryDirectory() as home:
            async with make.ledger_on_disk(Path(home)) as led:
                await led.record_announcements([make.accepted()])
                for e in [events[i] for i in [*order, *replays]]:
                    if isinstance(e, DeliveryPlanned):
                        await led.record_planned([e])
                    else:
                        await led.record_outcomes([e])
                [record] = await led.deliveries.of_announcement("a1")
                return await report(led), (record.revision, record.planned)

    counted, (revision, planned) = asyncio.run(run())
    assert (counts(counted), revision, planned) == ((1, 1, 0, 0), 2, True)
