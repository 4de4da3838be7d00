"""Handling records without head-of-line blocking: a fixed pool of workers, per channel.

Records of one channel (the record key) share a small per-channel limit: beyond it they
wait in the channel's own backlog, not in the workers' queue, so a slow or failing channel
holds only its own share while the others go on. A record waiting is a record, not a
task: the pool bounds the tasks. A record counts as finished in its partition's offsets
only once what handling it produced was acknowledged; one whose output was not is handled
again (the claims make that harmless).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from siaran_shared.logging import get_logger

from siaran_publisher.offsets import PartitionOffsets

log = get_logger(__name__)

#: Handles a record; returns what to await before the record counts as done, if anything
#: (the broker's acknowledgement of what handling it produced).
Handler = Callable[[Any], Awaitable[Awaitable[Any] | None]]
#: Waits between attempts at a record whose handling raised (store or broker down).
REDO_DELAYS = (0.5, 1, 2, 5, 10, 30)
#: A record to handle, the offsets of the partition it was fetched from, and its channel.
Item = tuple[PartitionOffsets, Any, str]


@dataclass(slots=True)
class Lane:
    """One channel's share of the work: `running` of its records are queued for or held by
    a worker (at most the channel concurrency); the rest wait in `backlog`."""

    running: int = 0
    backlog: deque[Item] = field(default_factory=deque)


class WorkPool:
    """Records of the partitions being worked on, handled by `workers` tasks."""

    def __init__(self, handle: Handler, *, workers: int, channel_concurrency: int) -> None:
        self._handle = handle
        self._workers = workers
        # a channel's share is always less than the pool: one slow channel never holds
        # every worker, whatever the settings say
        self._share = max(1, min(channel_concurrency, workers - 1))
        #: the offsets of each partition being worked on
        self.offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._lanes: dict[str, Lane] = {}
        self._ready: asyncio.Queue[Item] = asyncio.Queue()
        self._busy = 0  # workers handling a record right now
        self._idle = asyncio.Event()  # set whenever no worker is busy
        self._idle.set()
        self._unacked: set[asyncio.Future[Any]] = set()  # handled, output not acknowledged
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def channels_in_progress(self) -> int:
        """Channels with records queued, waiting or being handled."""
        return len(self._lanes)

    def start(self) -> None:
        """Start the workers."""
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]

    def admit(self, record: Any) -> None:
        """Take a fetched record: queue it for a worker, or in its channel's backlog if the
        channel has its share queued or running already."""
        tp = TopicPartition(record.topic, record.partition)
        offsets = self.offsets.setdefault(tp, PartitionOffsets())
        offsets.started(record.offset)
        self._enqueue(offsets, record)

    def revoke(self, partitions: set[TopicPartition]) -> None:
        """Partitions leaving us: their unfinished records are left to the new owner."""
        for tp in partitions:
            self.offsets.pop(tp, None)

    async def stop(self, drain_seconds: float) -> None:
        """Give records being handled a bounded time to finish, then stop the workers; the
        rest (also those still queued) stay unfinished and are consumed again."""
        if self._busy:
            log.info("draining", in_progress=self._busy, seconds=drain_seconds)
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=drain_seconds)
            except TimeoutError:
                log.warning("drain_incomplete", left_uncommitted=self._busy)
        if self._unacked:  # outcomes produced, acknowledgements on their way
            await asyncio.wait(set(self._unacked), timeout=2)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)

    def _enqueue(self, offsets: PartitionOffsets, record: Any) -> None:
        channel = record.key.decode(errors="replace") if record.key else ""
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = Lane()
        item = (offsets, record, channel)
        if lane.running < self._share:
            lane.running += 1
            self._ready.put_nowait(item)
        else:
            lane.backlog.append(item)

    def _next_of(self, channel: str) -> None:
        """A record of `channel` ended: its next waiting record takes the freed share."""
        lane = self._lanes[channel]
        if lane.backlog:
            self._ready.put_nowait(lane.backlog.popleft())
            return
        lane.running -= 1
        if lane.running == 0:
            del self._lanes[channel]

    async def _work(self) -> None:
        while True:
            offsets, record, channel = await self._ready.get()
            try:
                tp = TopicPartition(record.topic, record.partition)
                if self.offsets.get(tp) is not offsets:
                    continue  # its partition was revoked meanwhile: the new owner replays it
                self._busy += 1
                self._idle.clear()
                try:
                    acked = await self._handle_until_done(record)
                    if acked is None:
                        offsets.finished(record.offset)
                    else:  # the worker moves on; the offset waits for the acknowledgement
                        self._finish_when_acked(offsets, record, acked)
                finally:
                    self._busy -= 1
                    if self._busy == 0:
                        self._idle.set()
            finally:
                self._next_of(channel)

    def _finish_when_acked(
        self, offsets: PartitionOffsets, record: Any, acked: Awaitable[Any]
    ) -> None:
        future = asyncio.ensure_future(acked)
        self._unacked.add(future)

        def done(f: asyncio.Future[Any]) -> None:
            self._unacked.discard(f)
            error = None if f.cancelled() else f.exception()
            if error is None and not f.cancelled():
                offsets.finished(record.offset)
                return
            log.warning("output_not_acknowledged", topic=record.topic,
                        partition=record.partition, offset=record.offset,
                        error=type(error).__name__ if error else "cancelled")  # fmt: skip
            tp = TopicPartition(record.topic, record.partition)
            if self.offsets.get(tp) is offsets:  # handled again: the claim says it is done,
                self._enqueue(offsets, record)  # so only its outcome is produced again

        future.add_done_callback(done)

    async def _handle_until_done(self, record: Any) -> Awaitable[Any] | None:
        attempt = 0
        while True:
            try:
                return await self._handle(record)
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = REDO_DELAYS[min(attempt, len(REDO_DELAYS) - 1)]
                log.exception("record_handling_failed", topic=record.topic,
                              partition=record.partition, offset=record.offset,
                              retry_in=delay)  # fmt: skip
                await asyncio.sleep(delay)
                attempt += 1
