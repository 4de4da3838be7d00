"""Fan-out and cancellation over a real SQLite store: planning off the event loop, and a
cancellation that fails half-way is retried, not forgotten."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from siaran_router import fanout as fanout_module
from siaran_router.planning import render_texts
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    Channel,
    DeliveryAction,
    DeliveryStatus,
    Target,
)

if TYPE_CHECKING:  # conftest is not importable under --import-mode=importlib
    from conftest import Wire

ENDPOINT = "https://example.go.id/hook"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
CANCEL = AnnouncementCancelled(announcement_id="a1", cancelled_by="test")


def accepted(body: str = "Isi") -> AnnouncementAccepted:
    announcement = Announcement(id="a1", title="Judul", body=body, target=Target(national=True))
    return AnnouncementAccepted(announcement=announcement, submitted_by="test")


async def test_rendering_runs_off_the_event_loop(wire: Wire) -> None:
    started, loop_ran = threading.Event(), threading.Event()

    def render_waiting_for_the_loop(a: Announcement, kinds: Sequence[str]) -> dict[str, str]:
        started.set()
        # on the loop's own thread this would wait in vain: the loop could not run `answer`
        if not loop_ran.wait(timeout=10):
            raise AssertionError("the event loop was blocked while rendering")
        return render_texts(a, kinds)

    async def answer() -> None:
        await asyncio.to_thread(started.wait, 10)
        loop_ran.set()

    fanout, *_ = await wire(render=render_waiting_for_the_loop)
    answering = asyncio.create_task(answer())
    assert await fanout.on_accepted(accepted()) == 3
    await answering


async def test_kinds_with_the_same_limits_are_rendered_once() -> None:
    texts = render_texts(accepted().announcement, ["web", "email", "x", "web"])
    assert set(texts) == {"web", "email", "x"}
    assert texts["web"] is texts["email"]


async def test_a_cancellation_that_fails_to_produce_is_done_again_not_forgotten(wire: Wire) -> None:
    fanout, releaser, _, sink, *_ = await wire()
    later = accepted().model_copy(
        update={"announcement": accepted().announcement.model_copy(update={"publish_at": FAR})}
    )
    await fanout.on_accepted(later)
    sink.fail = 1  # the broker refuses the cancellation's outcomes
    with pytest.raises(ConnectionError):
        await fanout.on_cancelled(CANCEL)
    assert await releaser.release_due() == 0
    await fanout.on_cancelled(CANCEL)  # consumed again
    assert sorted((o.delivery_id, o.status) for o in sink.outcomes) == [
        (f"a1:c{i}", DeliveryStatus.CANCELLED) for i in range(3)
    ]
    assert sink.tasks == []
    assert await fanout.on_cancelled(CANCEL) == 0


async def test_a_retraction_that_fails_to_produce_is_done_again_not_forgotten(wire: Wire) -> None:
    fanout, releaser, _, sink, *_ = await wire()
    await fanout.on_accepted(accepted())
    assert await releaser.release_due() == 3
    sink.fail = 1
    with pytest.raises(ConnectionError):
        await fanout.on_cancelled(CANCEL)
    await fanout.on_cancelled(CANCEL)
    retracted = [t.delivery_id for t in sink.tasks if t.action == DeliveryAction.RETRACT]
    assert sorted(retracted) == [f"a1:c{i}" for i in range(3)]


async def test_held_deliveries_go_where_the_channel_points_at_release_time(wire: Wire) -> None:
    fanout, releaser, registry, sink, *_ = await wire()
    await fanout.on_accepted(accepted())  # due now, held until the loop releases it
    c1, c2 = registry.get("c1"), registry.get("c2")
    assert c1 is not None
    assert c2 is not None
    registry.apply(None, "c0")  # removed
    registry.apply(c1.channel().model_copy(update={"enabled": False}), "c1")
    moved = {"endpoint": "https://moved.go.id/h", "secret": "MOVED", "rate_per_minute": 5}
    registry.apply(c2.channel().model_copy(update=moved), "c2")
    await releaser.release_due()
    assert [(o.delivery_id, o.status, o.response) for o in sink.outcomes] == [
        ("a1:c0", DeliveryStatus.SKIPPED, "channel removed before release"),
        ("a1:c1", DeliveryStatus.SKIPPED, "channel disabled before release"),
    ]
    [task] = sink.tasks
    assert (task.channel_id, task.endpoint, task.secret, task.rate_per_minute) == (
        "c2", "https://moved.go.id/h", "MOVED", 5,
    )  # fmt: skip


async def test_a_large_fan_out_is_planned_held_and_released_in_parts(
    wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry larger than one part: every channel is planned once, in batches of at
    most a part each, and a replay of the announcement plans nothing again."""
    monkeypatch.setattr(fanout_module, "PLAN_CHUNK", 4)
    channels = [Channel(id=f"c{i:02}", region="73.03", kind="web", name=f"c{i}",
                        endpoint=ENDPOINT) for i in range(10)]  # fmt: skip
    fanout, releaser, _, sink, plans, *_ = await wire(channels)
    assert await fanout.on_accepted(accepted()) == 10
    plan = await plans.get("a1")
    assert plan is not None
    assert sorted(plan.channels) == [c.id for c in channels]
    assert len(plan.batches) == 3  # 4 + 4 + 2
    assert len(set(plan.batches)) == 3
    await releaser.release_due()
    assert sorted(t.channel_id for t in sink.tasks) == [c.id for c in channels]
    assert await fanout.on_accepted(accepted()) == 0  # a replay
    await releaser.release_due()
    assert len(sink.tasks) == 10


async def test_the_release_cache_holds_a_bounded_number_of_tasks(wire: Wire) -> None:
    """Tasks past the cache's limit are read back from the outbox when released."""
    fanout, releaser, _, sink, *_ = await wire()
    releaser._cache.limit = 2  # three tasks in one batch: not kept, read back
    await fanout.on_accepted(accepted())
    assert releaser._cache.held == 0
    await releaser.release_due()
    assert sorted(t.channel_id for t in sink.tasks) == ["c0", "c1", "c2"]
