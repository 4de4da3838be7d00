"""The releaser over a real SQLite store and a fake clock: nothing early, nothing twice,
nothing after a cancellation, urgent before normal, and a restart loses nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from siaran_router.outbox import Batch, Batches
from siaran_router.release import Releaser
from siaran_shared import tracing
from siaran_shared.events import (
    Channel,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Priority,
)
from siaran_shared.store import Store

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
ENDPOINT = "https://example.go.id/h"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


class Sink:
    """Records what the releaser emits, in order."""

    def __init__(self) -> None:
        self.tasks: list[DeliveryPlanned] = []
        self.outcomes: list[DeliveryCompleted] = []
        self.on_emit: list[object] = []

    async def __call__(
        self, tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]
    ) -> None:
        self.tasks.extend(tasks)
        self.outcomes.extend(outcomes)
        if self.on_emit:  # one hook per emitted chunk
            hook = self.on_emit.pop(0)
            await hook()  # type: ignore[operator]

    @property
    def ids(self) -> list[str]:
        return [t.delivery_id for t in self.tasks]


def configured(channel_id: str) -> Channel:
    """Every channel exists, enabled, as the tasks were planned."""
    return Channel(id=channel_id, region="73.03", kind="web", name=channel_id, endpoint=ENDPOINT)


def releaser(store: Store, sink: Sink, clock: Clock, owner: str = "a", chunk: int = 10) -> Releaser:
    return Releaser(
        Batches(
            store.collection("release_batches", indexes=("status", "due", "announcement_id")),
            store.collection("release_tasks"),
        ),
        sink,
        configured,
        owner=owner,
        clock=clock,
        chunk=chunk,
    )


def batch(
    announcement_id: str,
    due: datetime,
    n: int,
    priority: Priority = Priority.NORMAL,
    expires_at: datetime | None = None,
) -> Batch:
    tasks = [
        DeliveryPlanned(
            delivery_id=f"{announcement_id}:c{i}", announcement_id=announcement_id,
            channel_id=f"c{i}", region="73.03", province="73", kind="web", endpoint=ENDPOINT,
            title="t", text="t", priority=priority, accepted_at=T0, expires_at=expires_at,
        )
        for i in range(n)
    ]  # fmt: skip
    return Batch(announcement_id, due, priority, tasks)


async def cancel(r: Releaser, announcement_id: str) -> tuple[list[DeliveryPlanned], ...]:
    """A whole cancellation: stop, (produce), confirm."""
    stopped = await r.stop(announcement_id)
    await r.cancelled(stopped)
    return stopped.never, stopped.maybe


async def test_scheduled_batch_is_released_at_its_time_not_before_and_once(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    await r.hold([batch("a", T0 + timedelta(minutes=5), 3)])
    assert await r.release_due() == 0
    clock.now = T0 + timedelta(minutes=5) - timedelta(microseconds=1)
    assert await r.release_due() == 0
    clock.now = T0 + timedelta(minutes=5)
    assert await r.release_due() == 3
    assert await r.release_due() == 0
    assert sink.ids == ["a:c0", "a:c1", "a:c2"]
    assert await r.pending() == 0


async def test_held_batches_survive_a_restart(store: Store) -> None:
    sink, clock = Sink(), Clock()
    await releaser(store, sink, clock, owner="before").hold(
        [batch("a", T0 + timedelta(hours=1), 2)]
    )
    after = releaser(store, sink, clock, owner="after")  # a new process over the same store
    assert await after.pending() == 2
    clock.now = T0 + timedelta(hours=1)
    assert await after.release_due() == 2
    assert sink.ids == ["a:c0", "a:c1"]


async def test_holding_the_same_batch_twice_releases_it_once(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    await r.hold([batch("a", T0, 2)])
    await r.hold([batch("a", T0, 2)])  # a replayed announcement
    await r.release_due()
    assert sink.ids == ["a:c0", "a:c1"]


async def test_cancelled_held_batch_is_never_released(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    await r.hold(
        [batch("a", T0 + timedelta(minutes=1), 2), batch("b", T0 + timedelta(minutes=1), 1)]
    )
    never, maybe = await cancel(r, "a")
    assert [t.delivery_id for t in never] == ["a:c0", "a:c1"]
    assert maybe == []
    clock.now = T0 + timedelta(days=1)
    await r.release_due()
    assert sink.ids == ["b:c0"]
    assert await cancel(r, "a") == ([], [])  # a second cancellation changes nothing


async def test_cancellation_during_a_release_stops_the_rest(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock, chunk=10)
    await r.hold([batch("a", T0, 35)])
    cancelled: list[tuple[list[DeliveryPlanned], ...]] = []

    async def cancel_now() -> None:
        cancelled.append(await cancel(r, "a"))

    sink.on_emit.append(cancel_now)
    await r.release_due()
    assert len(sink.tasks) == 10  # the first chunk went out, the rest never will
    never, maybe = cancelled[0]
    assert never == []
    assert len(maybe) == 35
    await r.release_due()
    assert len(sink.tasks) == 10


async def test_expired_deliveries_are_not_released_but_reported_expired(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    due = T0 + timedelta(hours=2)
    await r.hold([batch("a", due, 2, expires_at=T0 + timedelta(hours=1))])
    clock.now = due
    await r.release_due()
    assert sink.tasks == []
    assert [(o.delivery_id, o.status) for o in sink.outcomes] == [
        ("a:c0", DeliveryStatus.EXPIRED),
        ("a:c1", DeliveryStatus.EXPIRED),
    ]


async def test_urgent_batch_goes_before_due_normal_ones(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    await r.hold([batch("normal", T0 - timedelta(seconds=5), 3)])
    await r.hold([batch("urgent", T0, 2, Priority.URGENT)])
    await r.release_due()
    assert sink.ids[:2] == ["urgent:c0", "urgent:c1"]


async def test_urgent_arriving_during_a_large_normal_release_preempts_it(store: Store) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock, chunk=10)
    await r.hold([batch("national", T0, 100)])

    async def urgent_arrives() -> None:
        await r.hold([batch("urgent", T0, 2, Priority.URGENT)])

    sink.on_emit.append(urgent_arrives)
    assert await r.release_due() == 102
    first_urgent = sink.ids.index("urgent:c0")
    assert first_urgent == 10  # right after the chunk that was already on its way
    assert len(set(sink.ids)) == 102  # the normal release resumed where it stopped


async def test_a_crashed_release_is_resumed_after_its_lease(store: Store) -> None:
    sink, clock, crashed_sink = Sink(), Clock(), Sink()
    crashed = releaser(store, crashed_sink, clock, owner="crashed", chunk=10)
    await crashed.hold([batch("a", T0, 25)])

    async def crash() -> None:
        raise RuntimeError("process died")

    crashed_sink.on_emit.extend([_noop, crash])
    with pytest.raises(RuntimeError):
        await crashed.release_due()
    other = releaser(store, sink, clock, owner="other", chunk=10)
    assert await other.release_due() == 0  # still leased by the crashed owner
    clock.now = T0 + timedelta(minutes=1)
    assert await other.release_due() == 15
    assert sink.ids == [f"a:c{i}" for i in range(10, 25)]


async def _noop() -> None: ...


async def test_a_batch_larger_than_one_stored_piece_is_restored_whole_and_in_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("siaran_router.outbox.PIECE", 4)
    sink, clock = Sink(), Clock()
    await releaser(store, sink, clock, owner="before").hold([batch("a", T0, 10)])
    pieces = await store.collection("release_tasks").find()
    assert len(pieces) == 3  # 4 + 4 + 2
    after = releaser(store, sink, clock, owner="after", chunk=3)  # nothing in memory
    assert await after.release_due() == 10
    assert sink.ids == [f"a:c{i}" for i in range(10)]


async def test_a_replayed_hold_keeps_the_tasks_first_held(store: Store) -> None:
    sink, clock = Sink(), Clock()
    due = T0 + timedelta(hours=1)
    await releaser(store, sink, clock, owner="before").hold([batch("a", due, 2)])
    # the registry changed before the replay: the batch already held is not rewritten
    await releaser(store, sink, clock, owner="replay").hold([batch("a", due, 5)])
    clock.now = due
    assert await releaser(store, sink, clock, owner="after").release_due() == 2
    assert sink.ids == ["a:c0", "a:c1"]


async def test_a_release_after_a_restart_stays_in_the_announcements_trace(store: Store) -> None:
    trace_id, span_id = 0x5A1A5A1A5A1A5A1A5A1A5A1A5A1A5A1A, 0x1234567890ABCDEF
    record = SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(1))
    tracing.remember({"traced": trace.set_span_in_context(NonRecordingSpan(record))})
    sink, clock = Sink(), Clock()
    await releaser(store, sink, clock, owner="before").hold(
        [batch("traced", T0 + timedelta(hours=1), 2)]
    )
    tracing._records.pop("traced")  # a new process remembers nothing

    seen: list[SpanContext] = []

    async def check() -> None:
        context = tracing.context_for(sink.tasks[-1])
        seen.append(trace.get_current_span(context).get_span_context())

    sink.on_emit.append(check)
    clock.now = T0 + timedelta(hours=1)
    assert await releaser(store, sink, clock, owner="after").release_due() == 2
    assert [(c.trace_id, c.span_id) for c in seen] == [(trace_id, span_id)]


async def test_small_batches_due_together_go_out_in_one_emit_most_urgent_first(
    store: Store,
) -> None:
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock, chunk=10)
    await r.hold([batch(f"n{i}", T0, 3) for i in range(4)])  # 12 tasks: 3 batches fit in 10
    await r.hold([batch("u", T0, 2, Priority.URGENT)])
    never, _ = await cancel(r, "n1")
    emitted: list[int] = []

    async def count() -> None:
        emitted.append(len(sink.tasks))

    sink.on_emit.extend([count] * 5)
    assert await r.release_due() == 2 + 9
    assert emitted == [2, 11]  # urgent alone (the next rank waits), then n0, n2, n3 together
    assert sink.ids[:2] == ["u:c0", "u:c1"]
    assert sorted(sink.ids[2:]) == sorted(f"n{i}:c{c}" for i in (0, 2, 3) for c in range(3))
    assert len(never) == 3
    assert await r.pending() == 0
    assert await r.release_due() == 0


async def test_released_and_cancelled_batches_carry_the_time_retention_counts_from(
    store: Store,
) -> None:
    """Retention prunes batches and their task pieces by `final_at`: released and cancelled
    ones set it (nothing did, so the outbox grew forever); a held one has none."""
    sink, clock = Sink(), Clock()
    r = releaser(store, sink, clock)
    await r.hold([batch("sent", T0, 2), batch("stopped", T0 + timedelta(hours=1), 2),
                  batch("held", T0 + timedelta(days=1), 1)])  # fmt: skip
    await r.release_due()
    await cancel(r, "stopped")
    batches, pieces = store.collection("release_batches"), store.collection("release_tasks")
    for announcement_id, final in (("sent", True), ("stopped", True), ("held", False)):
        [doc] = await batches.find({"announcement_id": announcement_id})
        piece = await pieces.get(f"{doc['id']}#0")
        assert piece is not None
        assert (doc.get("final_at") is not None) is final, announcement_id
        assert (piece.get("final_at") is not None) is final, announcement_id
