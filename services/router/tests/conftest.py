from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from siaran_router.fallbacks import Fallbacks
from siaran_router.fanout import Fanout
from siaran_router.outbox import Batches
from siaran_router.plans import Plans
from siaran_router.registry import Registry
from siaran_router.release import Releaser
from siaran_shared.events import Channel, DeliveryCompleted, DeliveryPlanned, utcnow
from siaran_shared.store import Store, open_store

ENDPOINT = "https://example.go.id/hook"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """The router's store on SQLite in the test's folder."""
    s = open_store(f"sqlite:///{tmp_path / 'router.db'}", "router")
    await s.connect()
    yield s
    await s.close()


class Sink:
    """Records what is emitted; `fail` makes the next emits raise."""

    def __init__(self) -> None:
        self.tasks: list[DeliveryPlanned] = []
        self.outcomes: list[DeliveryCompleted] = []
        self.fail = 0

    async def __call__(
        self, tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]
    ) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker unreachable")
        self.tasks.extend(tasks)
        self.outcomes.extend(outcomes)


@dataclass
class Clock:
    """The real time until a test sets `now`."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or utcnow()


class Router(NamedTuple):
    fanout: Fanout
    releaser: Releaser
    registry: Registry
    sink: Sink
    plans: Plans
    fallbacks: Fallbacks
    clock: Clock


Wire = Callable[..., Awaitable[Router]]


@pytest.fixture
def wire(store: Store) -> Wire:
    """The router's logic over the test's store: channels c0 (web), c1 (x), c2 (web) in
    73.03 unless `channels` says otherwise; `options` go to the fan-out."""

    async def wired(channels: Sequence[Channel] | None = None, **options: Any) -> Router:
        registry = Registry(store.collection("channels", indexes=("region",)))
        if channels is None:
            channels = [
                Channel(id=f"c{i}", region="73.03", kind=kind, name=f"c{i}", endpoint=ENDPOINT)
                for i, kind in enumerate(["web", "x", "web"])
            ]
        await registry.save_many(channels)
        batches = Batches(
            store.collection("release_batches", indexes=("status", "due", "announcement_id")),
            store.collection("release_tasks"),
        )
        sink, clock = Sink(), Clock()
        releaser = Releaser(batches, sink, registry.get, owner="test", clock=clock)
        plans = Plans(store.collection("plans", indexes=("status",)))
        fanout = Fanout(registry, plans, releaser, sink, **options)
        fallbacks = Fallbacks(registry, plans, releaser, fanout.stop, clock=clock)
        return Router(fanout, releaser, registry, sink, plans, fallbacks, clock)

    return wired
