"""Fan-out and cancellation over a real SQLite store: planning off the event loop, and a
cancellation that fails half-way is retried, not forgotten."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from siaran_router.fanout import Fanout
from siaran_router.planning import render_texts
from siaran_router.registry import Registry
from siaran_router.release import Releaser
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    Channel,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Target,
)
from siaran_shared.store import Store, open_store

ENDPOINT = "https://example.go.id/hook"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
CANCEL = AnnouncementCancelled(announcement_id="a1", cancelled_by="test")


class Sink:
    """Records what is emitted; `fail` makes the next emits raise."""

    def __init__(self) -> None:
        self.tasks: list[DeliveryPlanned] = []
        self.outcomes: list[DeliveryCompleted] = []
        self.fail = 0

    async def __call__(
        self, tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]
    ) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker unreachable")
        self.tasks.extend(tasks)
        self.outcomes.extend(outcomes)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'router.db'}", "router")
    await s.connect()
    yield s
    await s.close()


async def fanout_over(store: Store, sink: Sink, **options: object) -> tuple[Fanout, Releaser]:
    registry = Registry(store.collection("channels", indexes=("region",)))
    await registry.save_many(
        [
            Channel(id=f"c{i}", region="73.03", kind=kind, name=f"c{i}", endpoint=ENDPOINT)
            for i, kind in enumerate(["web", "x", "web"])
        ]
    )
    releaser = Releaser(
        store.collection("release_batches", indexes=("status", "due", "announcement_id")),
        store.collection("release_tasks"),
        sink,
        owner="test",
    )
    plans = store.collection("plans", indexes=("status",))
    return Fanout(registry, plans, releaser, sink, **options), releaser  # type: ignore[arg-type]


def accepted(body: str = "Isi") -> AnnouncementAccepted:
    announcement = Announcement(id="a1", title="Judul", body=body, target=Target(national=True))
    return AnnouncementAccepted(announcement=announcement, submitted_by="test")


async def test_rendering_runs_off_the_event_loop(store: Store) -> None:
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

    fanout, _ = await fanout_over(store, Sink(), render=render_waiting_for_the_loop)
    answering = asyncio.create_task(answer())
    assert await fanout.on_accepted(accepted()) == 3
    await answering


async def test_kinds_with_the_same_limits_are_rendered_once() -> None:
    texts = render_texts(accepted().announcement, ["web", "email", "x", "web"])
    assert set(texts) == {"web", "email", "x"}
    assert texts["web"] is texts["email"]


async def test_a_cancellation_that_fails_to_produce_is_done_again_not_forgotten(
    store: Store,
) -> None:
    sink = Sink()
    fanout, releaser = await fanout_over(store, sink)
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


async def test_a_retraction_that_fails_to_produce_is_done_again_not_forgotten(
    store: Store,
) -> None:
    sink = Sink()
    fanout, releaser = await fanout_over(store, sink)
    await fanout.on_accepted(accepted())
    assert await releaser.release_due() == 3
    sink.fail = 1
    with pytest.raises(ConnectionError):
        await fanout.on_cancelled(CANCEL)
    await fanout.on_cancelled(CANCEL)
    retracted = [t.delivery_id for t in sink.tasks if t.action == DeliveryAction.RETRACT]
    assert sorted(retracted) == [f"a1:c{i}" for i in range(3)]
