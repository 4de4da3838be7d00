"""Corrections over a real SQLite store: revision N goes to the channels revision 1 planned,
with the same delivery ids; held tasks of older revisions are replaced, never released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from siaran_router.outbox import BatchState
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    DeliveryAction,
    DeliveryStatus,
    Target,
)

if TYPE_CHECKING:  # conftest is not importable under --import-mode=importlib
    from conftest import Wire

FAR = datetime(2100, 1, 1, tzinfo=UTC)
ACCEPTED_AT = datetime(2026, 3, 1, tzinfo=UTC)
IDS = [f"a1:c{i}" for i in range(3)]


def announcement(body: str = "Isi", **fields: Any) -> Announcement:
    return Announcement(id="a1", title="Judul", body=body, target=Target(national=True), **fields)


def accepted(**fields: Any) -> AnnouncementAccepted:
    return AnnouncementAccepted(
        announcement=announcement(**fields), accepted_at=ACCEPTED_AT, submitted_by="writer"
    )


def updated(revision: int, body: str = "Isi yang benar", **fields: Any) -> AnnouncementUpdated:
    return AnnouncementUpdated(
        announcement=announcement(body, **fields), revision=revision, accepted_at=ACCEPTED_AT,
        updated_by="editor", submitted_by="writer",
    )  # fmt: skip


async def test_held_tasks_are_replaced_keeping_their_release_time(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted(publish_at=FAR))
    # the correction no longer names publish_at: the held deliveries keep their time anyway
    assert await r.fanout.on_updated(updated(2)) == 3
    assert await r.releaser.release_due() == 0
    assert sorted((o.delivery_id, o.revision, o.status) for o in r.sink.outcomes) == [
        (i, 1, DeliveryStatus.SUPERSEDED) for i in IDS
    ]
    states = {b.revision: b.status for b in await r.releaser._batches.of("a1")}
    assert states == {1: BatchState.SUPERSEDED, 2: BatchState.HELD}

    r.clock.now = FAR + timedelta(seconds=1)
    assert await r.releaser.release_due() == 3
    assert sorted(t.delivery_id for t in r.sink.tasks) == IDS
    assert {(t.revision, t.not_before) for t in r.sink.tasks} == {(2, FAR)}
    assert all("Isi yang benar" in t.text for t in r.sink.tasks)


async def test_released_tasks_are_followed_by_the_new_revision_at_once(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted())
    assert await r.releaser.release_due() == 3
    assert await r.fanout.on_updated(updated(2)) == 3
    assert await r.releaser.release_due() == 3
    assert [(t.delivery_id, t.revision) for t in r.sink.tasks[3:]] == [(i, 2) for i in IDS]
    assert r.sink.outcomes == []  # nothing was held: nothing superseded by the router


async def test_a_replayed_or_older_correction_changes_nothing(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted())
    await r.releaser.release_due()
    assert await r.fanout.on_updated(updated(2)) == 3
    assert await r.fanout.on_updated(updated(2)) == 0
    await r.releaser.release_due()
    assert await r.fanout.on_updated(updated(3, "Ketiga")) == 3
    assert await r.fanout.on_updated(updated(2)) == 0
    await r.releaser.release_due()
    assert [t.revision for t in r.sink.tasks] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    plan = await r.plans.get("a1")
    assert plan is not None
    assert (plan.revision, plan.announcement and plan.announcement.body) == (3, "Ketiga")


async def test_channels_removed_or_disabled_since_are_skipped(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted())
    await r.releaser.release_due()
    c1 = r.registry.get("c1")
    assert c1 is not None
    r.registry.apply(None, "c0")
    r.registry.apply(c1.channel().model_copy(update={"enabled": False}), "c1")
    assert await r.fanout.on_updated(updated(2)) == 1
    await r.releaser.release_due()
    assert [(t.delivery_id, t.revision) for t in r.sink.tasks[3:]] == [("a1:c2", 2)]


async def test_a_correction_is_not_planned_for_a_cancelled_announcement(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted(publish_at=FAR))
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    assert await r.fanout.on_updated(updated(2)) == 0
    r.clock.now = FAR + timedelta(seconds=1)
    assert await r.releaser.release_due() == 0


async def test_a_cancellation_after_a_correction_cancels_every_revision(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted(publish_at=FAR))
    await r.fanout.on_updated(updated(2))
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    ended = sorted((o.delivery_id, o.revision, o.status) for o in r.sink.outcomes)
    assert ended == sorted(
        [(i, 1, DeliveryStatus.SUPERSEDED) for i in IDS]
        + [(i, 2, DeliveryStatus.CANCELLED) for i in IDS]
    )
    r.clock.now = FAR + timedelta(seconds=1)
    assert await r.releaser.release_due() == 0
    assert r.sink.tasks == []


async def test_a_correction_of_a_correction_not_yet_released_supersedes_it(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted())
    await r.releaser.release_due()
    await r.fanout.on_updated(updated(2))
    await r.fanout.on_updated(updated(3, "Ketiga"))  # before revision 2 left the outbox
    await r.releaser.release_due()
    assert [t.revision for t in r.sink.tasks] == [1, 1, 1, 3, 3, 3]
    assert sorted((o.delivery_id, o.revision, o.status) for o in r.sink.outcomes) == [
        (i, 2, DeliveryStatus.SUPERSEDED) for i in IDS
    ]
    # revision 1 was released: a cancellation now retracts revision 3 (the same deliveries)
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    retracted = [t for t in r.sink.tasks if t.action is DeliveryAction.RETRACT]
    assert sorted(t.delivery_id for t in retracted) == IDS


async def test_a_cancellation_before_a_correction_is_released_retracts_the_first(
    wire: Wire,
) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted())
    await r.releaser.release_due()
    await r.fanout.on_updated(updated(2))  # held, not released yet
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    retracted = [t for t in r.sink.tasks if t.action is DeliveryAction.RETRACT]
    assert sorted(t.delivery_id for t in retracted) == IDS  # revision 1 may have been posted
    assert await r.releaser.release_due() == 0


async def test_a_correction_that_fails_half_way_is_done_again_once(wire: Wire) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted(publish_at=FAR))
    r.sink.fail = 1  # the broker refuses the superseded outcomes
    with pytest.raises(ConnectionError):
        await r.fanout.on_updated(updated(2))
    assert await r.fanout.on_updated(updated(2)) == 3  # consumed again
    r.clock.now = FAR + timedelta(seconds=1)
    assert await r.releaser.release_due() == 3
    assert sorted((t.delivery_id, t.revision) for t in r.sink.tasks) == [(i, 2) for i in IDS]
    assert len(r.sink.outcomes) == 3


async def test_a_plan_from_before_channels_were_kept_is_corrected_from_its_held_tasks(
    wire: Wire,
) -> None:
    r = await wire()
    await r.fanout.on_accepted(accepted(publish_at=FAR))
    await r.plans._plans.update("a1", {"channels": []})  # as a plan stored by an older router
    assert await r.fanout.on_updated(updated(2)) == 3
    r.clock.now = FAR + timedelta(seconds=1)
    assert await r.releaser.release_due() == 3
    assert {(t.delivery_id, t.revision) for t in r.sink.tasks} == {(i, 2) for i in IDS}
