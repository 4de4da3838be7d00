"""What the release loop keeps between batches: its lease on a claimed batch, the
preemption of a running release by a more urgent one, and the tasks it holds in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from siaran_shared.events import DeliveryPlanned

from siaran_router.outbox import Batches, HeldBatch

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Lease:
    """How long a claimed batch stays this process's without progress."""

    owner: str
    duration: timedelta
    clock: Clock

    def until(self) -> datetime:
        return self.clock() + self.duration


@dataclass
class Preemption:
    """Tells a running release that a more urgent batch became due."""

    running: int | None = None
    requested: bool = False

    def start(self, rank: int) -> None:
        self.running, self.requested = rank, False

    def end(self) -> None:
        self.running = None

    def offer(self, rank: int) -> None:
        if self.running is not None and rank < self.running:
            self.requested = True


@dataclass
class TaskCache:
    """Tasks of batches held by this process, so their release skips reading them back;
    at most `limit` tasks in all (the batches of a larger fan-out are read back)."""

    tasks: dict[str, list[DeliveryPlanned]] = field(default_factory=dict)
    limit: int = 20_000
    held: int = 0

    def keep(self, key: str, tasks: list[DeliveryPlanned]) -> None:
        self.drop(key)
        if self.held + len(tasks) <= self.limit:
            self.tasks[key] = tasks
            self.held += len(tasks)

    def drop(self, key: str) -> None:
        self.held -= len(self.tasks.pop(key, ()))

    async def of(self, batch: HeldBatch, batches: Batches) -> list[DeliveryPlanned]:
        return self.tasks.get(batch.id) or await batches.tasks(batch)
