"""The work pool's bookkeeping: a record on its way, a channel's or host's share of the
sends, and the event loop's lag (whether the process has CPU to spare)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from siaran_publisher.offsets import PartitionOffsets


@dataclass(slots=True)
class Item:
    """A record to handle, the offsets of the partition it came from, its channel and host."""

    offsets: PartitionOffsets
    record: Any
    channel: str
    host: str


@dataclass(slots=True)
class Lane:
    """One channel's (or host's) share: `running` of its records passed it (at most the
    share); the rest wait in `backlog`."""

    running: int = 0
    backlog: deque[Item] = field(default_factory=deque)
    #: a host's window: how many of its records may be handled at once now
    window: int = 0


class LoopLag:
    """How late the event loop runs a timer, smoothed: near 0 while it has time to spare,
    tens of milliseconds when the CPU is what the work waits for."""

    def __init__(self, every: float) -> None:
        self._every = every
        #: the smoothed lag, in seconds
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._measure())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _measure(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self._every)
            late = max(0.0, loop.time() - before - self._every)
            self.seconds = 0.8 * self.seconds + 0.2 * late


@dataclass(slots=True)
class SendTime:
    """How long the requests made for the record being handled took, in seconds: what a
    host's window widens on (the claim, the outcome's commit and the wait for the CPU that
    surround a request say nothing of the host)."""

    seconds: float = 0.0


#: The record being handled's SendTime, set by the work pool around each record.
SENDING: ContextVar[SendTime | None] = ContextVar("siaran_send_time", default=None)


@contextmanager
def timed_send() -> Iterator[None]:
    """Count the time of the block (one request to a channel) to the record's SendTime."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = SENDING.get()
        if spent is not None:
            spent.seconds += time.monotonic() - started
