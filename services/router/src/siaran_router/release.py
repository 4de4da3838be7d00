"""The release loop: due batches leave the outbox most urgent first.

Why a store and not the handler: a scheduled batch must survive restarts and never go out
early, and an urgent announcement must not wait behind the fan-out of a large normal one.
The loop releases a batch in chunks and, between chunks, yields to a more urgent batch
that became due (`Preemption`). A release is at least once: a crash mid-batch resumes it
after its `Lease` and the publisher's claims by delivery id make a repeated task harmless.
Each task goes where its channel points when it is released, not when it was planned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from siaran_shared.events import (
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    utcnow,
)
from siaran_shared.logging import get_logger
from siaran_shared.tracing import restore

from siaran_router.outbox import RANK, Batch, Batches, BatchState, HeldBatch
from siaran_router.registry import Configured
from siaran_router.release_control import Clock, Lease, Preemption, TaskCache

log = get_logger(__name__)

Emit = Callable[[Sequence[DeliveryPlanned], Sequence[DeliveryCompleted]], Awaitable[None]]
#: The channel of an id as the registry holds it now (None: removed).
Channels = Callable[[str], Configured | None]


@dataclass
class Stopped:
    """An announcement's batches stopped by a cancellation, and their tasks."""

    keys: list[str] = field(default_factory=list)
    #: tasks never released: they end cancelled (or superseded)
    never: list[DeliveryPlanned] = field(default_factory=list)
    #: tasks perhaps released: they are retracted
    maybe: list[DeliveryPlanned] = field(default_factory=list)
    #: never released, but replacing a task of an older revision perhaps released: a
    #: cancellation retracts them
    replacing: list[DeliveryPlanned] = field(default_factory=list)
    #: delivery id -> when it was due, for deliveries no revision of which was released
    due: dict[str, datetime] = field(default_factory=dict)

    def unposted(self) -> list[DeliveryPlanned]:
        """Never-released tasks of deliveries no earlier revision of which was released."""
        return [t for t in self.never if t.delivery_id in self.due]

    def to_retract(self) -> list[DeliveryPlanned]:
        return [*self.maybe, *self.replacing]


def outcome(task: DeliveryPlanned, status: DeliveryStatus, why: str) -> DeliveryCompleted:
    """The terminal outcome of a task the router ends itself (expired, cancelled, ...)."""
    return DeliveryCompleted.of(task, status, attempts=0, response=why)


def as_configured(task: DeliveryPlanned, channel: Configured) -> DeliveryPlanned:
    """The task sent where the channel points now (endpoint, secret and rate)."""
    current = {
        "endpoint": channel.endpoint,
        "secret": channel.secret,
        "rate_per_minute": channel.rate_per_minute,
    }
    if all(getattr(task, name) == value for name, value in current.items()):
        return task
    # re-pointed now: the publisher honours a configuration saved after this, not before
    return task.model_copy(update={**current, "planned_at": utcnow()})


class Releaser:
    """Holds batches in the outbox and releases each once due, most urgent first."""

    def __init__(
        self,
        batches: Batches,
        emit: Emit,
        channels: Channels,
        *,
        owner: str,
        clock: Clock = utcnow,
        chunk: int = 500,
        lease: timedelta = timedelta(seconds=30),
        tick: float = 1.0,
    ) -> None:
        self._batches = batches
        self._emit = emit
        self._channels = channels
        self._clock = clock
        self._chunk = chunk
        self._lease = Lease(owner, lease, clock)
        self._tick = tick
        self._cache = TaskCache()
        self._preemption = Preemption()
        self._wake = asyncio.Event()

    async def hold(self, batches: Sequence[Batch]) -> None:
        """Store batches (idempotent by key) and wake the loop for those already due."""
        now = self._clock()
        for batch in await self._batches.hold(batches):
            if batch.due <= now:
                self._cache.keep(batch.key, batch.tasks)
                self._preemption.offer(RANK[batch.priority])
        self._wake.set()

    async def stop(self, announcement_id: str, *, below_revision: int | None = None) -> Stopped:
        """Step one of a cancellation (every batch) or a correction (the batches of older
        revisions than `below_revision`): the loop releases none of them from now on.
        Batches stopped by an earlier attempt that did not finish are returned again, so a
        cancellation that failed half-way is done again, not forgotten."""
        stopped = Stopped()
        for batch in await self._batches.of(announcement_id):
            if below_revision is not None and batch.revision >= below_revision:
                continue
            was = await self._batches.stop(batch)
            if was is None:
                continue
            self._cache.drop(batch.id)
            stopped.keys.append(batch.id)
            tasks = await self._batches.tasks(batch)
            if was is not BatchState.HELD:
                stopped.maybe.extend(tasks)
                continue
            stopped.never.extend(tasks)
            if batch.replaces_released:
                stopped.replacing.extend(tasks)
            else:
                stopped.due.update(dict.fromkeys((t.delivery_id for t in tasks), batch.due))
        return stopped

    async def cancelled(self, stopped: Stopped, state: BatchState = BatchState.CANCELLED) -> None:
        """Step two, once the retractions and outcomes (or the replacements) of `stopped`
        are produced: its batches end `state`."""
        for key in stopped.keys:
            await self._batches.cancel(key, state)

    async def pending(self) -> int:
        """Deliveries held or being released."""
        return await self._batches.pending()

    async def run(self) -> None:
        """Release due batches for the service's lifetime."""
        while True:
            try:
                await self.release_due()
                wait = await self._seconds_to_next_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("release_failed")
                wait = self._tick
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def release_due(self) -> int:
        """Release every batch due now, most urgent first; returns the tasks released.

        Small batches due together (many announcements to a few channels each) go out in one
        produce of up to a chunk, so a burst of them costs one round trip, not one each.
        """
        released = 0
        while True:
            due = await self._batches.due(self._clock(), self._lease.owner)
            if not due:
                return released
            group = self._small_group(due)
            if len(group) > 1:
                released += await self._release_together(group)
            else:
                released += await self._release(due[0])

    def _small_group(self, due: Sequence[HeldBatch]) -> list[HeldBatch]:
        """The leading held batches of the most urgent rank that fit in one chunk together."""
        group: list[HeldBatch] = []
        room = self._chunk
        for batch in due:
            if batch.rank != due[0].rank or batch.status is not BatchState.HELD:
                break
            if batch.size > room:
                break
            group.append(batch)
            room -= batch.size
        return group

    async def _release_together(self, group: Sequence[HeldBatch]) -> int:
        claimed = [b for b in group if await self._batches.claim(b, *self._claim_terms())]
        tasks: list[DeliveryPlanned] = []
        for batch in claimed:
            tasks.extend(await self._cache.of(batch, self._batches))
            restore(batch.announcement_id, batch.trace)
        await self._emit_chunk(tasks)
        for batch in claimed:
            await self._batches.release(batch.id, self._lease.owner, batch.size)
            self._cache.drop(batch.id)
        log.info(
            "batches_released",
            batches=len(claimed),
            deliveries=len(tasks),
            announcement_ids=[b.announcement_id for b in claimed][:20],
            priority=claimed[0].priority.value if claimed else None,
        )
        return len(tasks)

    async def _release(self, batch: HeldBatch) -> int:
        if not await self._batches.claim(batch, *self._claim_terms()):
            return 0
        tasks = await self._cache.of(batch, self._batches)
        restore(batch.announcement_id, batch.trace)
        sent = batch.sent
        self._preemption.start(batch.rank)
        try:
            while sent < len(tasks):
                chunk = tasks[sent : sent + self._chunk]
                await self._emit_chunk(chunk)
                sent += len(chunk)
                if not await self._batches.renew(batch.id, *self._claim_terms(), sent=sent):
                    log.info(
                        "release_stopped", batch=batch.id, sent=sent
                    )  # its cancellation retracts
                    self._cache.drop(batch.id)
                    return sent - batch.sent
                if self._preemption.requested and sent < len(tasks):
                    log.info("release_preempted", batch=batch.id, sent=sent, total=len(tasks))
                    return sent - batch.sent
            await self._batches.release(batch.id, self._lease.owner, sent)
            self._cache.drop(batch.id)
            log.info("batch_released", announcement_id=batch.announcement_id, batch=batch.id,
                     deliveries=len(tasks), priority=batch.priority.value)  # fmt: skip
            return sent - batch.sent
        finally:
            self._preemption.end()

    def _claim_terms(self) -> tuple[str, datetime]:
        return self._lease.owner, self._lease.until()

    async def _seconds_to_next_due(self) -> float:
        due = await self._batches.next_due()
        if due is None:
            return self._tick
        return max(0.0, min(self._tick, (due - self._clock()).total_seconds()))

    async def _emit_chunk(self, chunk: Sequence[DeliveryPlanned]) -> None:
        now = self._clock()
        live: list[DeliveryPlanned] = []
        ended: list[DeliveryCompleted] = []
        for task in chunk:
            if task.expires_at is not None and task.expires_at <= now:
                ended.append(outcome(task, DeliveryStatus.EXPIRED, "expired before release"))
                continue
            # the channel as it is now: held tasks were planned with the channel as it was
            channel = self._channels(task.channel_id)
            if channel is None:
                ended.append(
                    outcome(task, DeliveryStatus.SKIPPED, "channel removed before release")
                )
            elif not channel.enabled:
                ended.append(
                    outcome(task, DeliveryStatus.SKIPPED, "channel disabled before release")
                )
            else:
                live.append(as_configured(task, channel))
        await self._emit(live, ended)
