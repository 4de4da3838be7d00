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
from siaran_publisher.lanes import timed_send
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


class Sent(Raw):
    """A record whose task goes to `host` (the pool asks `host_of`)."""

    def __init__(self, offset: int, channel: str, host: str) -> None:
        super().__init__(offset, channel)
        self.host = host
        self.value = b"x" * 100


async def test_a_slow_host_holds_only_its_share_of_the_sends() -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def handle(raw: Sent) -> None:
        if raw.host == "slow":
            await release.wait()
        done.append(raw.offset)

    p = WorkPool(handle, workers=10, channel_concurrency=4, host_share=3,
                 host_of=lambda raw: raw.host)  # fmt: skip
    p.start()
    try:
        for offset in range(8):  # eight channels of one slow host
            p.admit(Sent(offset, f"slow{offset}", "slow"))
        for offset in range(8, 12):
            p.admit(Sent(offset, f"fast{offset}", "fast"))
        await settle()
        assert p.in_flight == 3  # the slow host's share; its other channels wait
        assert sorted(done) == [8, 9, 10, 11]  # the other host went on meanwhile
        release.set()
        await settle()
        assert sorted(done) == list(range(12))
        assert p.offsets[TP].committable() == 12
        assert p.held_bytes == 0  # every record released
    finally:
        await p.stop(drain_seconds=0)


async def test_thousands_in_flight_and_no_task_left_when_idle() -> None:
    release = asyncio.Event()
    running = 0

    async def handle(raw: Raw) -> None:
        nonlocal running
        running += 1
        await release.wait()

    async with pool(handle, concurrency=1, workers=5000) as p:
        for offset in range(3000):
            p.admit(Raw(offset, f"ch{offset}"))
        await settle()
        assert running == 3000
        assert p.in_flight == 3000
        assert p.held_bytes > 0
        release.set()
        await settle()
        assert p.in_flight == 0
        assert p.held_bytes == 0
        assert p.tasks == 0  # a task lives only while a record is handled


async def _most_at_once(slow_send: float, busy_lag: float = float("inf")) -> int:
    """Most records of one host handled at once, 200 of them on distinct channels, its
    window starting at 4 (a send counts as slow when it took longer than `slow_send`)."""
    running = most = 0

    async def handle(raw: Sent) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1

    p = WorkPool(handle, workers=1000, channel_concurrency=4, host_share=500,
                 host_of=lambda raw: raw.host, host_window=4, slow_send=slow_send,
                 busy_lag=busy_lag)  # fmt: skip
    p.start()
    try:
        for offset in range(200):
            p.admit(Sent(offset, f"ch{offset}", "host"))
        await eventually_settled(p)
        assert p.offsets[TP].committable() == 200
    finally:
        await p.stop(drain_seconds=0)
    return most


async def eventually_settled(p: WorkPool) -> None:
    for _ in range(2000):
        if p.in_flight == 0 and p.tasks == 0 and p.held_bytes == 0:
            return
        await asyncio.sleep(0)
    raise AssertionError("records left in the pool")


async def test_a_host_answering_at_once_keeps_its_window_a_slow_one_widens_it() -> None:
    assert await _most_at_once(slow_send=3600) == 4  # never slow: a few reused connections
    assert await _most_at_once(slow_send=-1) > 4  # every send slow: the window grows
    # every send slow, but the event loop short of time: the CPU is the limit, not the host
    assert await _most_at_once(slow_send=-1, busy_lag=-1) == 4


async def test_a_channel_s_records_go_on_in_the_task_that_ended_the_one_before() -> None:
    tasks: set[asyncio.Task[Any] | None] = set()

    async def handle(raw: Raw) -> None:
        tasks.add(asyncio.current_task())
        await asyncio.sleep(0)

    async with pool(handle, concurrency=1, workers=100) as p:
        for offset in range(50):
            p.admit(Raw(offset, "ch"))
        await eventually_settled(p)
        assert p.offsets[TP].committable() == 50
    assert len(tasks) == 1  # no task made per record


async def test_a_window_widens_on_the_request_alone_not_on_the_work_around_it() -> None:
    """A fast host whose records take long to handle (the claim, the outcome's commit, a
    busy store) keeps its window: only the request's own time says the host is slow."""
    running = most = 0

    async def handle(raw: Sent, request: float) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        with timed_send():
            await asyncio.sleep(request)
        await asyncio.sleep(0.02)  # the work around the request
        running -= 1

    async def most_at_once(request: float) -> int:
        nonlocal most
        most = 0
        p = WorkPool(lambda raw: handle(raw, request), workers=1000, channel_concurrency=4,
                     host_share=500, host_of=lambda raw: raw.host, host_window=4,
                     slow_send=0.01, busy_lag=float("inf"))  # fmt: skip
        p.start()
        try:
            for offset in range(40):
                p.admit(Sent(offset, f"ch{offset}", "host"))
            for _ in range(500):
                if p.offsets[TP].committable() == 40:
                    break
                await asyncio.sleep(0.01)
            assert p.offsets[TP].committable() == 40
        finally:
            await p.stop(drain_seconds=0)
        return most

    assert await most_at_once(request=0) == 4  # fast host, slow handling: the window stays
    assert await most_at_once(request=0.03) > 4  # slow requests: it widens
