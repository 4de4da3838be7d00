"""Consuming deliveries without head-of-line blocking.

Records are fetched continuously and each is handled in its own task: tasks of one channel
(the record key) share a small per-channel limit, so a slow or failing channel holds only
its own slots while the others go on. Offsets are committed per partition only up to the
first record not finished yet, so a crash or rebalance replays only unfinished work (the
claims make the replay harmless). A partition with too many unfinished records is paused
until it drains, which bounds memory. See docs/decisions/0005-publisher-consumption.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from siaran_shared.kafka_client import aiokafka_options
from siaran_shared.logging import get_logger
from siaran_shared.settings import Settings

from siaran_publisher.offsets import PartitionOffsets

log = get_logger(__name__)

Handler = Callable[[Any], Awaitable[None]]
#: Waits between attempts at a record whose handling raised (store or broker down).
_REDO_DELAYS = (0.5, 1, 2, 5, 10, 30)


@dataclass
class Lane:
    """One channel's share of the work: at most `limit` of its records at once."""

    gate: asyncio.Semaphore
    users: int = 0


class ConcurrentConsumer:
    """A consumer-group member that handles records concurrently, per channel."""

    def __init__(
        self,
        settings: Settings,
        topics: tuple[str, ...],
        handle: Handler,
        *,
        channel_concurrency: int,
        max_pending: int,
        commit_interval: float,
        drain_seconds: float,
    ) -> None:
        self._settings = settings
        self._topics = topics
        self._handle = handle
        self._channel_concurrency = channel_concurrency
        self._max_pending = max_pending
        self._commit_interval = commit_interval
        self._drain_seconds = drain_seconds
        self._offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._lanes: dict[str, Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused: set[TopicPartition] = set()
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def in_progress(self) -> int:
        return len(self._tasks)

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
        try:
            await self._fetch(consumer)
        finally:
            committer.cancel()
            await self._drain()
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
                    task = asyncio.create_task(self._one(offsets, record))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
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

    async def _one(self, offsets: PartitionOffsets, record: Any) -> None:
        channel = record.key.decode(errors="replace") if record.key else ""
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = Lane(asyncio.Semaphore(self._channel_concurrency))
        lane.users += 1
        try:
            async with lane.gate:
                await self._handle_until_done(record)
            offsets.finished(record.offset)
        finally:
            lane.users -= 1
            if lane.users == 0:
                self._lanes.pop(channel, None)

    async def _handle_until_done(self, record: Any) -> None:
        for attempt in range(10_000):
            try:
                await self._handle(record)
                return
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

    async def _drain(self) -> None:
        """Give in-flight records a bounded time to finish; the rest stay uncommitted."""
        if not self._tasks:
            return
        log.info("draining", in_progress=len(self._tasks), seconds=self._drain_seconds)
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)
            log.warning("drain_incomplete", left_uncommitted=len(pending))

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
