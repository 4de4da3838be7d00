"""The durable schedule's clock: deliveries that are due again (retries, rate-limit slots,
open circuits, not_before) or whose claim was left by a crashed instance are re-queued on
the retry topic, keyed by channel, so the instance owning the channel sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from siaran_shared.events import DeliveryPlanned, utcnow
from siaran_shared.logging import get_logger
from siaran_shared.tracing import restore

from siaran_publisher.claims import Claim, RetrySchedule

log = get_logger(__name__)

Requeue = Callable[[Sequence[DeliveryPlanned]], Awaitable[None]]


class Scheduler:
    """Polls the schedule for due work and hands it to `requeue`."""

    def __init__(
        self, schedule: RetrySchedule, requeue: Requeue, *, poll: float, batch: int = 500
    ) -> None:
        self._schedule = schedule
        self._requeue = requeue
        self._poll = poll
        self._batch = batch

    async def tick(self, now: datetime) -> int:
        """Re-queue what is due now; how many were re-queued."""
        ready: list[tuple[Claim, DeliveryPlanned]] = []
        for claim in await self._schedule.due(now, self._batch):
            if claim.task is None:  # the schedule hands out only claims with a task
                continue
            restore(claim.task.delivery_id, claim.trace)  # the retry stays in the trace
            ready.append((claim, claim.task.model_copy(update={"attempt": claim.attempts + 1})))
        if not ready:
            return 0
        # Publish first, then mark: a crash in between re-queues twice, which claims absorb.
        await self._requeue([task for _, task in ready])
        for claim, _ in ready:
            await self._schedule.requeued(claim, now)
        return len(ready)

    async def run(self) -> None:
        """Tick for the service's lifetime."""
        while True:
            try:
                count = await self.tick(utcnow())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("schedule_tick_failed")
                count = 0
            if count < self._batch:
                await asyncio.sleep(self._poll)
