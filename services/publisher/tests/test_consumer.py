"""The consumer's worker pool without a broker: per-channel shares, backlogs that hold no
worker, offsets finished only once the output is acknowledged, and a record handled again
when its output was not."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import TopicPartition
from siaran_publisher.workpool import WorkPool

TP = TopicPartition("siaran.deliveries.v1", 0)


class Raw:
    def __init__(self, offset: int, channel: str) -> None:
        self.topic, self.partition, self.offset = TP.topic, TP.partition, offset
        self.key = channel.encode()


@asynccontextmanager
async def pool(
    handle: Callable[[Any], Awaitable[Any]], *, concurrency: int = 2, workers: int = 3
) -> AsyncIterator[WorkPool]:
    p = WorkPool(handle, workers=workers, channel_concurrency=concurrency)
    p.start()
    try:
        yield p
    finally:
        await p.stop(drain_seconds=0)


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

    async with pool(handle) as p:
        for offset in range(6):
            p.admit(Raw(offset, "slow"))
        for offset in range(6, 10):
            p.admit(Raw(offset, f"fast{offset}"))
        await settle()
        assert running["slow"] == 2  # its share, the rest of it waits in its backlog
        assert sorted(done) == [6, 7, 8, 9]  # other channels went on meanwhile
        assert p.offsets[TP].committable() is None  # offset 0 is not finished
        release.set()
        await settle()
        assert sorted(done) == list(range(10))
        assert p.offsets[TP].committable() == 10
        assert p.channels_in_progress == 0  # nothing left behind


async def test_a_channel_never_holds_every_worker_whatever_its_concurrency() -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def handle(raw: Raw) -> None:
        if raw.key.decode() == "slow":
            await release.wait()
        done.append(raw.offset)

    async with pool(handle, concurrency=8, workers=2) as p:
        for offset, channel in enumerate(["slow", "slow", "slow", "fast"]):
            p.admit(Raw(offset, channel))
        await settle()
        assert done == [3]  # a worker was left for the other channel
        release.set()
        await settle()
        assert sorted(done) == [0, 1, 2, 3]


async def test_offset_waits_for_the_acknowledgement_and_a_failed_one_is_handled_again() -> None:
    loop = asyncio.get_running_loop()
    acks: list[asyncio.Future[None]] = []
    handled: list[int] = []

    async def handle(raw: Raw) -> asyncio.Future[None]:
        handled.append(raw.offset)
        acks.append(loop.create_future())
        return acks[-1]

    async with pool(handle) as p:
        p.admit(Raw(0, "ch"))
        await settle()
        assert handled == [0]
        assert p.offsets[TP].committable() is None
        acks[0].set_exception(ConnectionError("broker gone"))
        await settle()
        assert handled == [0, 0]  # handled again: the claim makes it produce its outcome again
        acks[1].set_result(None)
        await settle()
        assert p.offsets[TP].committable() == 1


async def test_records_of_a_revoked_partition_are_left_to_its_new_owner() -> None:
    handled: list[int] = []
    gate = asyncio.Event()

    async def handle(raw: Raw) -> None:
        await gate.wait()
        handled.append(raw.offset)

    async with pool(handle, concurrency=1, workers=2) as p:
        p.admit(Raw(0, "ch"))  # taken by a worker, held at the gate
        p.admit(Raw(1, "ch"))  # waits in the channel's backlog
        await settle()
        p.revoke({TP})
        gate.set()
        await settle()
        assert handled == [0]  # the one in hand finished; the waiting one was left
        assert TP not in p.offsets
        assert p.channels_in_progress == 0
