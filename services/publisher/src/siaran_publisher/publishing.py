"""Publishing one task: replace its delivery's earlier revisions not posted yet, claim it as
its channel is now (claiming.py), honour its expiry, its not-before time and an earlier
revision still being sent, then one attempt (attempts.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from siaran_shared.events import DeliveryPlanned, DeliveryStatus, utcnow

from siaran_publisher.claiming import SEND_WAIT, Step
from siaran_publisher.claims import Claim
from siaran_publisher.finishing import Handled


class Publishing(Step):
    """Posts a task once, or says why it was not (yet)."""

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        now = utcnow()
        replacing = await self.claiming.replace_earlier(task, now)
        taken = await self.claiming.take(task, headers, now)
        if isinstance(taken, Handled):
            handled = taken
        else:
            handled = await self._post(*taken, now, following=replacing.sending)
        # the revisions this one replaced end here, never posted
        handled.results[:0] = replacing.superseded
        return handled

    async def _post(
        self, task: DeliveryPlanned, claim: Claim, now: datetime, *, following: int | None
    ) -> Handled:
        finishing = self.finishing
        if task.expires_at is not None and task.expires_at <= now:
            return await finishing.end(task, claim, DeliveryStatus.EXPIRED, claim.attempts,
                                       "expired before posting")  # fmt: skip
        if following is not None:  # never before an earlier revision being posted now
            why = f"waiting for revision {following} to be sent"
            return await finishing.later(task, claim, now + SEND_WAIT, why)
        if task.not_before is not None and task.not_before > now:
            wait = (task.not_before - now).total_seconds()
            if wait > self.attempts.inline_wait:
                return await finishing.later(task, claim, task.not_before, "not before")
            await asyncio.sleep(wait)
        return await self.attempts.make(task, claim)
