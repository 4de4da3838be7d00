"""Publishing one task: claim it as its channel is now (claiming.py), honour its expiry and
its not-before time, then one attempt (attempts.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from siaran_shared.events import DeliveryPlanned, DeliveryStatus, utcnow

from siaran_publisher.claiming import Step
from siaran_publisher.finishing import Handled


class Publishing(Step):
    """Posts a task once, or says why it was not (yet)."""

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        now = utcnow()
        taken = await self.claiming.take(task, headers, now)
        if isinstance(taken, Handled):
            return taken
        task, claim = taken
        finishing = self.finishing
        if task.expires_at is not None and task.expires_at <= now:
            return await finishing.end(task, claim, DeliveryStatus.EXPIRED, claim.attempts,
                                       "expired before posting")  # fmt: skip
        if task.not_before is not None and task.not_before > now:
            wait = (task.not_before - now).total_seconds()
            if wait > self.attempts.inline_wait:
                return await finishing.later(task, claim, task.not_before, "not before")
            await asyncio.sleep(wait)
        return await self.attempts.make(task, claim)
