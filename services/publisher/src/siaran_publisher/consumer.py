"""Consuming deliveries without head-of-line blocking.

Records are fetched continuously and handed to a pool of workers, per channel (see
workpool.py); pausing a partition with too many unfinished records bounds what is held.
Offsets are committed per partition only up to the first record not finished yet, so a
crash or rebalance replays only unfinished work (the claims make the replay harmless).
See docs/decisions/0005-publisher-consumption.md.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from siaran_shared.logging import get_logger
from siaran_shared.messaging import aiokafka_options
from siaran_shared.settings import Settings

from siaran_publisher.workpool import Handler, HostOf, WorkPool

log = get_logger(__name__)


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
        host_share: int | None = None,
        host_of: HostOf | None = None,
        max_held_bytes: int | None = None,
    ) -> None:
        self._settings = settings
        self._topics = topics
        self._pool = WorkPool(
            handle, workers=workers, channel_concurrency=channel_concurrency,
            host_share=host_share, host_of=host_of,
        )  # fmt: skip
        self._max_pending = max_pending
        self._max_held = max_held_bytes
        self._full = False  # every partition paused: the records held reached their bound
        self._commit_interval = commit_interval
        self._drain_seconds = drain_seconds
        self._paused: set[TopicPartition] = set()
        self._consumer: AIOKafkaConsumer | None = None

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
        self._pool.start()
        try:
            await self._fetch(consumer)
        finally:
            committer.cancel()
            await self._pool.stop(self._drain_seconds)
            await self._commit()
            await consumer.stop()
            self._consumer = None

    async def _fetch(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batches.items():
                for record in records:
                    self._pool.admit(record)
                offsets = self._pool.offsets.get(tp)
                if offsets and offsets.pending >= self._max_pending and tp not in self._paused:
                    consumer.pause(tp)
                    self._paused.add(tp)
                    log.info("partition_paused", topic=tp.topic, partition=tp.partition,
                             pending=offsets.pending)  # fmt: skip
            self._bound_memory(consumer)
            self._resume_drained(consumer)

    def _bound_memory(self, consumer: AIOKafkaConsumer) -> None:
        """Pause every partition while the records held (fetched, not finished) take more
        than their bound in memory; resume below half of it."""
        if self._max_held is None:
            return
        held = self._pool.held_bytes
        if not self._full and held >= self._max_held:
            self._full = True
            log.info("fetching_paused", held_bytes=held, in_flight=self._pool.in_flight)
        if self._full and held > self._max_held // 2:
            consumer.pause(*consumer.assignment())  # partitions assigned meanwhile too
        elif self._full:
            self._full = False
            consumer.resume(*(consumer.assignment() - self._paused))

    def _resume_drained(self, consumer: AIOKafkaConsumer) -> None:
        if self._full:
            return
        for tp in list(self._paused):
            offsets = self._pool.offsets.get(tp)
            if offsets is None or offsets.pending <= self._max_pending // 2:
                self._paused.discard(tp)
                if tp in consumer.assignment():
                    consumer.resume(tp)

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
            for tp, offsets in self._pool.offsets.items()
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
            self._pool.offsets[tp].committed(position)

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Commit what finished on partitions leaving us; their unfinished records replay."""
        await self._commit(only=partitions)
        self._pool.revoke(partitions)
        self._paused -= partitions


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: ConcurrentConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions_assigned", count=len(assigned))
