"""The durable schedule's clock: deliveries that are due again (retries, rate-limit slots,
open circuits, not_before) or whose claim was left by a crashed instance are re-queued on
the retry topic, keyed by channel, so the instance owning the channel sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from pydantic import ValidationError
from siaran_shared.events import DeliveryPlanned, utcnow
from siaran_shared.logging import get_logger
from siaran_shared.tracing import restore

from siaran_publisher.claims import Claims

log = get_logger(__name__)

Requeue = Callable[[Sequence[DeliveryPlanned]], Awaitable[None]]


class Scheduler:
    """Polls the claims for due work and hands it to `requeue`."""

    def __init__(self, claims: Claims, requeue: Requeue, *, poll: float, batch: int = 500) -> None:
        self._claims = claims
        self._requeue = requeue
        self._poll = poll
        self._batch = batch

    async def tick(self, now: datetime) -> int:
        """Re-queue what is due now; how many were re-queued."""
        ready = []
        for key, doc in await self._claims.due(now, self._batch):
            try:
                task = DeliveryPlanned.model_validate(doc["task"])
            except ValidationError as exc:
                log.error("scheduled_task_unreadable", key=key, error=str(exc)[:300])
                continue
            restore(task.delivery_id, doc.get("trace"))  # the retry stays in the trace
            attempt = int(doc.get("attempts", 0)) + 1
            ready.append((key, doc, task.model_copy(update={"attempt": attempt})))
        if not ready:
            return 0
        # Publish first, then mark: a crash in between re-queues twice, which claims absorb.
        await self._requeue([task for _, _, task in ready])
        for key, doc, _ in ready:
            await self._claims.queued(key, doc, now)
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
