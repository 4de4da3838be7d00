"""Consuming deliveries without head-of-line blocking.

Records are fetched continuously and handled by a fixed pool of workers. Records of one
channel (the record key) share a small per-channel limit: beyond it they wait in the
channel's own backlog, not in the workers' queue, so a slow or failing channel holds only
its own share while the others go on. A record waiting is a record, not a task: the pool
bounds the tasks, and pausing a partition with too many unfinished records bounds the rest.
Offsets are committed per partition only up to the first record not finished yet, so a
crash or rebalance replays only unfinished work (the claims make the replay harmless).
See docs/decisions/0005-publisher-consumption.md.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from siaran_shared.kafka_client import aiokafka_options
from siaran_shared.logging import get_logger
from siaran_shared.settings import Settings

from siaran_publisher.offsets import PartitionOffsets

log = get_logger(__name__)

#: Handles a record; returns what to await before the record counts as done, if anything
#: (the broker's acknowledgement of what handling it produced).
Handler = Callable[[Any], Awaitable[Awaitable[Any] | None]]
#: Waits between attempts at a record whose handling raised (store or broker down).
_REDO_DELAYS = (0.5, 1, 2, 5, 10, 30)


#: A record to handle, the offsets of the partition it was fetched from, and its channel.
Item = tuple[PartitionOffsets, Any, str]


@dataclass(slots=True)
class Lane:
    """One channel's share of the work: `running` of its records are queued for or held by
    a worker (at most the channel concurrency); the rest wait in `backlog`."""

    running: int = 0
    backlog: deque[Item] = field(default_factory=deque)


class ConcurrentConsumer:
    """A consumer-group member that handles records concurrently, per channel."""

    def __init__(
        self,
        settings: Settings,
        topics: tuple[str, ...],
        handle: Handler,
        *,
        channel_concurrency: int,
        workers: int,
        max_pending: int,
        commit_interval: float,
        drain_seconds: float,
    ) -> None:
        self._settings = settings
        self._topics = topics
        self._handle = handle
        # a channel's share is always less than the pool: one slow channel never holds
        # every worker, whatever the settings say
        self._channel_concurrency = max(1, min(channel_concurrency, workers - 1))
        self._workers = workers
        self._max_pending = max_pending
        self._commit_interval = commit_interval
        self._drain_seconds = drain_seconds
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._lanes: dict[str, Lane] = {}
        self._ready: asyncio.Queue[Item] = asyncio.Queue()
        self._busy = 0  # workers handling a record right now
        self._idle = asyncio.Event()  # set whenever no worker is busy
        self._idle.set()
        self._unacked: set[asyncio.Future[Any]] = set()  # handled, output not acknowledged
        self._paused: set[TopicPartition] = set()
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def in_progress(self) -> int:
        """Records being handled by a worker right now."""
        return self._busy

    async def run(self) -> None:
        """Consume until cancelled; then let in-flight work finish (bounded) and commit."""
        s = self._settings
        consumer = AIOKafkaConsumer(
            **aiokafka_options(s),
            group_id=s.consumer_group,
            client_id=f"siaran-{s.service}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=s.kafka_fetch_max_wait_ms,
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(s.kafka_session_timeout_ms // 3, 300),
            max_poll_interval_ms=300_000,
        )
        consumer.subscribe(list(self._topics), listener=_Rebalance(self))
        await consumer.start()
        self._consumer = consumer
        committer = asyncio.create_task(self._commit_every())
        workers = [asyncio.create_task(self._work()) for _ in range(self._workers)]
        try:
            await self._fetch(consumer)
        finally:
            committer.cancel()
            await self._drain(workers)
            await self._commit()
            await consumer.stop()
            self._consumer = None

    async def _fetch(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batches.items():
                offsets = self._offsets.setdefault(tp, PartitionOffsets())
                for record in records:
                    offsets.started(record.offset)
                    self._admit(offsets, record)
                if offsets.pending >= self._max_pending and tp not in self._paused:
                    consumer.pause(tp)
                    self._paused.add(tp)
                    log.info("partition_paused", topic=tp.topic, partition=tp.partition,
                             pending=offsets.pending)  # fmt: skip
            self._resume_drained(consumer)

    def _resume_drained(self, consumer: AIOKafkaConsumer) -> None:
        for tp in list(self._paused):
            offsets = self._offsets.get(tp)
            if offsets is None or offsets.pending <= self._max_pending // 2:
                self._paused.discard(tp)
                if tp in consumer.assignment():
                    consumer.resume(tp)

    def _admit(self, offsets: PartitionOffsets, record: Any) -> None:
        """Queue the record for a worker, or in its channel's backlog if the channel has its
        share queued or running already."""
        channel = record.key.decode(errors="replace") if record.key else ""
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = Lane()
        item = (offsets, record, channel)
        if lane.running < self._channel_concurrency:
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
                if self._offsets.get(tp) is not offsets:
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
            if self._offsets.get(tp) is offsets:  # handled again: the claim says it is done,
                self._admit(offsets, record)  # so only its outcome is produced again

        future.add_done_callback(done)

    async def _handle_until_done(self, record: Any) -> Awaitable[Any] | None:
        attempt = 0
        while True:
            try:
                return await self._handle(record)
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = _REDO_DELAYS[min(attempt, len(_REDO_DELAYS) - 1)]
                log.exception(
                    "record_handling_failed",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    retry_in=delay,
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _commit_every(self) -> None:
        while True:
            await asyncio.sleep(self._commit_interval)
            await self._commit()

    async def _commit(self, only: set[TopicPartition] | None = None) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        assigned = consumer.assignment()
        ready = {
            tp: position
            for tp, offsets in self._offsets.items()
            if (only is None or tp in only)
            and tp in assigned
            and (position := offsets.committable()) is not None
        }
        if not ready:
            return
        try:
            await consumer.commit(ready)
        except (CommitFailedError, KafkaError) as exc:
            log.warning("commit_failed", error=type(exc).__name__)
            return
        for tp, position in ready.items():
            self._offsets[tp].committed(position)

    async def _drain(self, workers: list[asyncio.Task[None]]) -> None:
        """Give records being handled a bounded time to finish; the rest (also those still
        queued) stay uncommitted and are consumed again."""
        if self._busy:
            log.info("draining", in_progress=self._busy, seconds=self._drain_seconds)
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=self._drain_seconds)
            except TimeoutError:
                log.warning("drain_incomplete", left_uncommitted=self._busy)
        if self._unacked:  # outcomes produced, acknowledgements on their way
            await asyncio.wait(set(self._unacked), timeout=2)
        for worker in workers:
            worker.cancel()
        await asyncio.wait(workers, timeout=2)

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Commit what finished on partitions leaving us; their unfinished records replay."""
        await self._commit(only=partitions)
        for tp in partitions:
            self._offsets.pop(tp, None)
            self._paused.discard(tp)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: ConcurrentConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions_assigned", count=len(assigned))
