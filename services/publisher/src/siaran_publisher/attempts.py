"""One attempt at a claimed delivery, unless the channel's rate limit or circuit says
later, and what follows it: a terminal outcome, or a retry on the durable schedule."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta

from siaran_shared.events import DeliveryAction, DeliveryPlanned, DeliveryStatus, utcnow
from siaran_shared.logging import get_logger

from siaran_publisher.backoff import RetryPolicy
from siaran_publisher.breaker import Breakers
from siaran_publisher.claims import Claim
from siaran_publisher.finishing import Finishing, Handled
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.ratelimit import RateLimits
from siaran_publisher.transport import Transport

log = get_logger(__name__)

_RETRACT_STATUS = {
    Verdict.DELIVERED: DeliveryStatus.RETRACTED,
    Verdict.UNSUPPORTED: DeliveryStatus.SKIPPED,
}


@dataclass
class Attempts:
    """Paces, sends and judges one attempt of a claimed publication or retraction."""

    finishing: Finishing
    transport: Transport
    policy: RetryPolicy
    breakers: Breakers
    limits: RateLimits = field(default_factory=RateLimits)
    #: waits up to this long happen in memory; longer ones go to the durable schedule
    inline_wait: float = 1.0

    async def make(self, task: DeliveryPlanned, claim: Claim) -> Handled:
        """One attempt now, or a place on the schedule when the channel says later."""
        now = utcnow()
        slot = claim.slot
        if not (slot and slot <= now + timedelta(seconds=self.inline_wait)):
            wait = self.limits.reserve(task.channel_id, task.rate_per_minute, time.monotonic())
            if wait > self.inline_wait:
                due = now + timedelta(seconds=wait)
                return await self.finishing.later(task, claim, due, "rate limit", slot=due)
            if wait > 0:
                await asyncio.sleep(wait)
        circuit = self.breakers.circuit(task.channel_id, task.kind, task.province)
        wait = self.breakers.admit(circuit, time.monotonic())
        if wait > 0:
            due = utcnow() + timedelta(seconds=wait)
            return await self.finishing.later(task, claim, due, f"circuit {circuit.state.value}")
        attempt = await self.transport.send(task)
        self.breakers.record(circuit, attempt, time.monotonic())
        return await self._judge(task, claim, claim.attempts + 1, attempt)

    async def _judge(
        self, task: DeliveryPlanned, claim: Claim, attempts: int, attempt: Attempt
    ) -> Handled:
        end = self.finishing.end
        if attempt.verdict is Verdict.DELIVERED and task.action is DeliveryAction.PUBLISH:
            return await end(task, claim, DeliveryStatus.DELIVERED, attempts, attempt.summary,
                             attempt.post_id)  # fmt: skip
        if attempt.verdict is Verdict.UNSUPPORTED:  # media_required, not_supported: no retry helps
            return await end(task, claim, DeliveryStatus.SKIPPED, attempts, attempt.summary)
        if task.action is DeliveryAction.RETRACT and attempt.verdict in _RETRACT_STATUS:
            status = _RETRACT_STATUS[attempt.verdict]
            return await end(task, claim, status, attempts, attempt.summary)
        if attempt.verdict is Verdict.RETRY:
            now = utcnow()
            due = self.policy.next_attempt_at(
                attempts, now, claim.first_at or now, attempt.retry_after
            )
            if due is not None:
                handled = await self.finishing.later(
                    task, claim, due, attempt.summary, attempts=attempts
                )
                log.info("delivery_retry_scheduled", delivery_id=task.delivery_id,
                         channel_id=task.channel_id, announcement_id=task.announcement_id,
                         attempts=attempts, due=due.isoformat(),
                         response=attempt.summary[:200])  # fmt: skip
                return handled
            summary = f"gave up after {attempts} attempts: {attempt.summary}"
        else:
            summary = attempt.summary
            if attempt.needs_reconnect:
                summary = f"channel needs reconnect: {summary}"
        handled = await end(task, claim, DeliveryStatus.FAILED, attempts, summary)
        handled.dead_letter = f"delivery_failed: {summary}"
        return handled
