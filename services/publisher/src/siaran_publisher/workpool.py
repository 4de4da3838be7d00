"""Handling records without head-of-line blocking: thousands at once, shared per channel and
per host.

A record passes three limits before it is handled: its channel's share (the record key: a
few at once, the rest wait in the channel's backlog), its host's window (the endpoint's
host: a slow or unreachable host holds at most its share of the sends, never the pool), and
the pool's (`workers`: sends at once in all). A host's window starts at `HOST_WINDOW` sends
and grows by one for each send whose request took longer than `SLOW_SEND` (the request
alone, `lanes.timed_send`) while more of the host's records waited and the event loop had
time to spare (its lag below `BUSY_LAG`), up to the host's share: a host that answers at
once is posted to over a few reused connections, a distant one gets as many at once as its
latency needs (thousands), and a process short of CPU does not add sends that would only
wait for it.

A record waiting is a record in a deque, not a task: a task exists only while a record is
being handled, and ends when nothing is ready. A record counts as finished in its
partition's offsets only once what handling it produced was acknowledged; one whose output
was not is handled again (the claims make that harmless).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import TopicPartition
from siaran_shared.logging import get_logger

from siaran_publisher.lanes import SENDING, Item, Lane, LoopLag, SendTime
from siaran_publisher.offsets import PartitionOffsets

log = get_logger(__name__)

#: Handles a record; returns what to await before the record counts as done, if anything
#: (the broker's acknowledgement of what handling it produced).
Handler = Callable[[Any], Awaitable[Awaitable[Any] | None]]
#: The host a record's send goes to (its share is kept per host); "" when unknown.
HostOf = Callable[[Any], str]
#: Waits between attempts at a record whose handling raised (store or broker down).
REDO_DELAYS = (0.5, 1, 2, 5, 10, 30)
#: Sends at once to a host before it shows it is slow.
HOST_WINDOW = 64
#: A send longer than this (seconds) to a host with records waiting widens its window.
SLOW_SEND = 0.1
#: The event loop's lag (seconds, smoothed) above which no window widens: the CPU is the
#: limit then, not the hosts.
BUSY_LAG = 0.02
#: How often the event loop's lag is measured.
LAG_PROBE = 0.05
#: What a record held costs beyond its bytes (the record object, its place in the lanes).
RECORD_OVERHEAD = 600


class WorkPool:
    """Records of the partitions being worked on, at most `workers` handled at once."""

    def __init__(
        self, handle: Handler, *, workers: int, channel_concurrency: int,
        host_share: int | None = None, host_of: HostOf | None = None,
        host_window: int = HOST_WINDOW, slow_send: float = SLOW_SEND,
        busy_lag: float = BUSY_LAG,
    ) -> None:  # fmt: skip
        self._handle = handle
        self._workers = workers
        # a channel's or a host's share is always less than the pool: one slow channel or
        # host never holds every send, whatever the settings say
        self._share = max(1, min(channel_concurrency, workers - 1))
        self._host_share = workers if host_share is None else max(1, min(host_share, workers - 1))
        self._host_of = host_of
        # without hosts to tell apart, only the pool's limit applies
        self._window = min(host_window, self._host_share) if host_of else self._host_share
        self._slow_send = slow_send
        self._busy_lag = busy_lag
        self._lag = LoopLag(LAG_PROBE)
        #: the offsets of each partition being worked on
        self.offsets: dict[TopicPartition, PartitionOffsets] = {}
        self._lanes: dict[str, Lane] = {}
        self._hosts: dict[str, Lane] = {}
        self._ready: deque[Item] = deque()  # passed its shares, waiting for the pool
        self._running = 0  # tasks handling records (at most `workers`)
        self._busy = 0  # records being handled right now
        self._idle = asyncio.Event()  # set whenever no record is being handled
        self._idle.set()
        self._unacked: set[asyncio.Future[Any]] = set()  # handled, output not acknowledged
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._taker = False  # a task is ending a record: it takes the next one itself
        #: bytes of the records held (fetched, not finished), what the consumer bounds
        self.held_bytes = 0

    @property
    def channels_in_progress(self) -> int:
        """Channels with records queued, waiting or being handled."""
        return len(self._lanes)

    @property
    def in_flight(self) -> int:
        """Records being handled right now."""
        return self._busy

    @property
    def tasks(self) -> int:
        """Tasks alive (each handling records; none when nothing is ready)."""
        return len(self._tasks)

    def start(self) -> None:
        """Ready to handle records (tasks start as records come)."""
        self._stopping = False
        self._lag.start()

    def admit(self, record: Any) -> None:
        """Take a fetched record: it is handled as soon as its channel, its host and the
        pool have room for it."""
        tp = TopicPartition(record.topic, record.partition)
        offsets = self.offsets.setdefault(tp, PartitionOffsets())
        offsets.started(record.offset)
        self.held_bytes += _size(record)
        channel = record.key.decode(errors="replace") if record.key else ""
        host = self._host_of(record) if self._host_of is not None else ""
        self._to_channel(Item(offsets, record, channel, host))

    def revoke(self, partitions: set[TopicPartition]) -> None:
        """Partitions leaving us: their unfinished records are left to the new owner."""
        for tp in partitions:
            self.offsets.pop(tp, None)

    async def stop(self, drain_seconds: float) -> None:
        """Give records being handled a bounded time to finish, then stop; the rest (also
        those still waiting) stay unfinished and are consumed again."""
        self._stopping = True
        if self._busy:
            log.info("draining", in_progress=self._busy, seconds=drain_seconds)
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=drain_seconds)
            except TimeoutError:
                log.warning("drain_incomplete", left_uncommitted=self._busy)
        if self._unacked:  # outcomes produced, acknowledgements on their way
            await asyncio.wait(set(self._unacked), timeout=2)
        self._lag.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2)

    def _to_channel(self, item: Item) -> None:
        lane = self._lanes.get(item.channel)
        if lane is None:
            lane = self._lanes[item.channel] = Lane()
        if lane.running < self._share:
            lane.running += 1
            self._to_host(item)
        else:
            lane.backlog.append(item)

    def _to_host(self, item: Item) -> None:
        lane = self._hosts.get(item.host)
        if lane is None:
            lane = self._hosts[item.host] = Lane(window=self._window)
        if lane.running < lane.window:
            lane.running += 1
            self._to_pool(item)
        else:
            lane.backlog.append(item)

    def _to_pool(self, item: Item) -> None:
        if self._taker:  # the task that just finished a record takes this one on
            self._taker = False
            self._ready.appendleft(item)
        elif self._running < self._workers and not self._stopping:
            self._running += 1
            task = asyncio.create_task(self._work(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._ready.append(item)

    def _widen(self, item: Item, seconds: float) -> None:
        """A slow send to a host whose records wait: one more of them may go at once."""
        host = self._hosts[item.host]
        if (seconds > self._slow_send and host.backlog and host.window < self._host_share
                and self._lag.seconds < self._busy_lag):  # fmt: skip
            host.window += 1
            if host.window & (host.window - 1) == 0:  # at 128, 256, …; never the host's
                # name: an Apprise URL's "host" may be a token
                lag_ms = round(self._lag.seconds * 1000, 1)
                log.info("host_window_widened", window=host.window, lag_ms=lag_ms)
            host.running += 1
            self._to_pool(host.backlog.popleft())

    def _ended(self, item: Item) -> None:
        """A record was handled: the next waiting record of its host, then of its channel,
        takes the freed shares."""
        host = self._hosts[item.host]
        if host.backlog:
            self._to_pool(host.backlog.popleft())
        else:
            host.running -= 1
            if host.running == 0:
                del self._hosts[item.host]
        lane = self._lanes[item.channel]
        if lane.backlog:
            self._to_host(lane.backlog.popleft())
            return
        lane.running -= 1
        if lane.running == 0:
            del self._lanes[item.channel]

    async def _work(self, first: Item) -> None:
        """Handle records until none is ready; the task ends then (or when cancelled)."""
        item: Item | None = first
        try:
            while item is not None:
                spent = SendTime()
                token = SENDING.set(spent)
                try:
                    await self._one(item)
                finally:
                    SENDING.reset(token)
                    self._widen(item, spent.seconds)
                    self._taker = True  # a record its end frees goes on in this task
                    try:
                        self._ended(item)
                    finally:
                        self._taker = False
                item = self._ready.popleft() if self._ready and not self._stopping else None
        finally:
            self._running -= 1

    async def _one(self, item: Item) -> None:
        offsets, record = item.offsets, item.record
        tp = TopicPartition(record.topic, record.partition)
        if self.offsets.get(tp) is not offsets:
            self._release(record)
            return  # its partition was revoked meanwhile: the new owner replays it
        self._busy += 1
        self._idle.clear()
        try:
            acked = await self._handle_until_done(record)
            if acked is None:
                self._finished(offsets, record)
            else:  # the task moves on; the offset waits for the acknowledgement
                self._finish_when_acked(item, acked)
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    def _finished(self, offsets: PartitionOffsets, record: Any) -> None:
        offsets.finished(record.offset)
        self._release(record)

    def _release(self, record: Any) -> None:
        self.held_bytes -= _size(record)

    def _finish_when_acked(self, item: Item, acked: Awaitable[Any]) -> None:
        future = asyncio.ensure_future(acked)
        self._unacked.add(future)
        offsets, record = item.offsets, item.record

        def done(f: asyncio.Future[Any]) -> None:
            self._unacked.discard(f)
            error = None if f.cancelled() else f.exception()
            if error is None and not f.cancelled():
                self._finished(offsets, record)
                return
            log.warning("output_not_acknowledged", topic=record.topic,
                        partition=record.partition, offset=record.offset,
                        error=type(error).__name__ if error else "cancelled")  # fmt: skip
            tp = TopicPartition(record.topic, record.partition)
            if self.offsets.get(tp) is offsets:  # handled again: the claim says it is done,
                self._to_channel(item)  # so only its outcome is produced again
            else:
                self._release(record)

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


def _size(record: Any) -> int:
    value = getattr(record, "value", None)
    return RECORD_OVERHEAD + (len(value) if value else 0)
