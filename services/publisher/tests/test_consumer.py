"""The consumer's worker pool without a broker: per-channel shares, backlogs that hold no
worker, offsets finished only once the output is acknowledged, and a record handled again
when its output was not; and a re-queued copy racing the scheduler's mark."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from siaran_publisher.claims import INDEXES, Claims
from siaran_publisher.consumer import ConcurrentConsumer
from siaran_publisher.offsets import PartitionOffsets
from siaran_publisher.tally import Tally
from siaran_shared.settings import Settings
from siaran_shared.store import open_store

TP = TopicPartition("siaran.deliveries.v1", 0)


class Raw:
    def __init__(self, offset: int, channel: str) -> None:
        self.topic, self.partition, self.offset = TP.topic, TP.partition, offset
        self.key = channel.encode()


def consumer(handle: Any, *, concurrency: int = 2, workers: int = 3) -> ConcurrentConsumer:
    return ConcurrentConsumer(Settings(), (TP.topic,), handle, channel_concurrency=concurrency,
                              workers=workers, max_pending=100, commit_interval=1,
                              drain_seconds=1)  # fmt: skip


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_slow_channel_holds_only_its_share_of_the_workers() -> None:
    release = asyncio.Event()
    running: Counter[str] = Counter()
    done: list[int] = []

    async def handle(raw: Raw) -> None:
        channel = raw.key.decode()
        running[channel] += 1
        if channel == "slow":
            await release.wait()
        running[channel] -= 1
        done.append(raw.offset)

    c = consumer(handle)
    offsets = c._offsets[TP] = PartitionOffsets()
    workers = [asyncio.create_task(c._work()) for _ in range(3)]
    for offset in range(6):
        offsets.started(offset)
        c._admit(offsets, Raw(offset, "slow"))
    for offset in range(6, 10):
        offsets.started(offset)
        c._admit(offsets, Raw(offset, f"fast{offset}"))
    await settle()
    assert running["slow"] == 2  # its share, the rest of it waits in its backlog
    assert sorted(done) == [6, 7, 8, 9]  # other channels went on meanwhile
    assert offsets.committable() is None  # offset 0 is not finished
    release.set()
    await settle()
    assert sorted(done) == list(range(10))
    assert offsets.committable() == 10
    assert not c._lanes  # nothing left behind
    for w in workers:
        w.cancel()


async def test_a_channel_never_holds_every_worker_whatever_its_concurrency() -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def handle(raw: Raw) -> None:
        if raw.key.decode() == "slow":
            await release.wait()
        done.append(raw.offset)

    c = consumer(handle, concurrency=8, workers=2)
    offsets = c._offsets[TP] = PartitionOffsets()
    workers = [asyncio.create_task(c._work()) for _ in range(2)]
    for offset, channel in enumerate(["slow", "slow", "slow", "fast"]):
        offsets.started(offset)
        c._admit(offsets, Raw(offset, channel))
    await settle()
    assert done == [3]  # a worker was left for the other channel
    release.set()
    await settle()
    assert sorted(done) == [0, 1, 2, 3]
    for w in workers:
        w.cancel()


async def test_offset_waits_for_the_acknowledgement_and_a_failed_one_is_handled_again() -> None:
    loop = asyncio.get_running_loop()
    acks: list[asyncio.Future[None]] = []
    handled: list[int] = []

    async def handle(raw: Raw) -> asyncio.Future[None]:
        handled.append(raw.offset)
        acks.append(loop.create_future())
        return acks[-1]

    c = consumer(handle)
    offsets = c._offsets[TP] = PartitionOffsets()
    worker = asyncio.create_task(c._work())
    offsets.started(0)
    c._admit(offsets, Raw(0, "ch"))
    await settle()
    assert handled == [0]
    assert offsets.committable() is None
    acks[0].set_exception(ConnectionError("broker gone"))
    await settle()
    assert handled == [0, 0]  # handled again: the claim makes it produce its outcome again
    acks[1].set_result(None)
    await settle()
    assert offsets.committable() == 1
    worker.cancel()


async def test_records_of_a_revoked_partition_are_left_to_its_new_owner() -> None:
    handled: list[int] = []

    async def handle(raw: Raw) -> None:
        handled.append(raw.offset)

    c = consumer(handle)
    offsets = c._offsets[TP] = PartitionOffsets()
    offsets.started(0)
    c._admit(offsets, Raw(0, "ch"))
    await c.revoked({TP})  # before any worker took it
    worker = asyncio.create_task(c._work())
    await settle()
    assert handled == []
    assert not c._lanes
    worker.cancel()


def test_tally_logs_the_first_outcome_of_an_announcement_and_counts_the_rest() -> None:
    tally = Tally()
    assert tally.add("a1", "delivered", "0" * 32) is True
    assert tally.add("a1", "delivered") is False
    assert tally.add("a2", "delivered") is True
    tally.flush()
    assert tally.add("a1", "delivered") is False  # still remembered after a flush


async def test_a_requeued_copy_arriving_before_the_queued_mark_is_still_claimed(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'claims.db'}", "publisher")
    await store.connect()
    docs = store.collection("deliveries", INDEXES)
    now = datetime.now(UTC)
    waiting = {"key": "d1", "state": "waiting", "due": (now - timedelta(seconds=1)).isoformat(),
               "attempts": 1, "v": 3, "task": {"x": 1}}  # fmt: skip
    await docs.put("d1", waiting)

    class SchedulerMarksMeanwhile:
        """The scheduler's "queued" mark lands between the claim's read and its write."""

        def __getattr__(self, name: str) -> Any:
            return getattr(docs, name)

        async def update(self, key: str, changes: Any, *, where: Any = None) -> bool:
            if where == {"v": 3}:
                await docs.update(key, {"state": "queued", "v": 4}, where={"v": 3})
            return await docs.update(key, changes, where=where)

    claims = Claims(SchedulerMarksMeanwhile(), "test:1", timedelta(seconds=30))  # type: ignore[arg-type]
    try:
        claim = await claims.claim("d1", {"x": 1}, now)
        assert claim.result == "claimed"
        assert (await docs.get("d1") or {})["state"] == "claimed"
    finally:
        await store.close()
