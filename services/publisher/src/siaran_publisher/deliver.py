"""Delivering one task: claim, expiry, waits (schedule, rate limit, circuit), send through
the right transport, then a terminal outcome or a durable retry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from siaran_shared.events import (
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    utcnow,
)
from siaran_shared.logging import get_logger
from siaran_shared.netguard import refused_reason

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.backoff import RetryPolicy
from siaran_publisher.breaker import Breakers, Circuit
from siaran_publisher.claims import Claim, Claims
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.ratelimit import RateLimits
from siaran_publisher.secrets import MissingSecret, Secrets
from siaran_publisher.tally import Tally
from siaran_publisher.webhook import WebhookSender, event_id

log = get_logger(__name__)
_std_log = logging.getLogger(__name__)  # what structlog's stdlib logger passes lines to

#: Header the dead-letter replay sets: a failed or expired delivery may be tried again.
REPLAY_HEADER = "siaran-replayed-at"
#: How long a retraction waits for the send it retracts to finish.
RETRACT_WAIT = timedelta(seconds=5)
_RETRACT_STATUS = {
    Verdict.DELIVERED: DeliveryStatus.RETRACTED,
    Verdict.UNSUPPORTED: DeliveryStatus.SKIPPED,
}


@dataclass
class Handled:
    """What handling one task produced: outcomes to publish and, maybe, a dead letter."""

    results: list[DeliveryCompleted] = field(default_factory=list)
    dead_letter: str | None = None


@dataclass
class Deliverer:
    """Sends tasks once each and says how each ended."""

    claims: Claims
    secrets: Secrets
    webhooks: WebhookSender
    apprise: AppriseSender
    policy: RetryPolicy
    breakers: Breakers
    limits: RateLimits = field(default_factory=RateLimits)
    #: hosts or networks allowed although link-local or metadata (SIARAN_ENDPOINT_ALLOWLIST)
    allowlist: tuple[str, ...] = ()
    #: deliveries in progress at once, across channels
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(64))
    #: waits up to this long happen in memory; longer ones go to the durable schedule
    inline_wait: float = 1.0
    #: delivered outcomes, logged together (see tally.py)
    tally: Tally = field(default_factory=Tally)
    #: longest one send may take in all, whatever the receiver does (a receiver dripping its
    #: answer a byte at a time never trips a per-read timeout)
    send_timeout: float = 30.0

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str] = {}) -> Handled:
        """Handle one task; never raises for anything a channel does.

        The whole of claim, send and record holds one of the `slots`, so that few
        deliveries are ever between "sent" and "recorded" (what a crash can repeat)."""
        async with self.slots:
            if task.action is DeliveryAction.RETRACT:
                return await self._retract(task, headers)
            return await self._publish(task, headers)

    async def _publish(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        key = event_id(task)
        now = utcnow()
        claim = await self.claims.claim(key, _task_doc(task), now, reopen=REPLAY_HEADER in headers)
        if claim.result != "claimed":
            return self._not_claimed(task, claim)
        if task.expires_at is not None and task.expires_at <= now:
            return await self._end(task, key, DeliveryStatus.EXPIRED, claim.attempts,
                                   "expired before posting")  # fmt: skip
        if task.not_before is not None and task.not_before > now:
            wait = (task.not_before - now).total_seconds()
            if wait > self.inline_wait:
                return await self._later(task, key, claim, task.not_before, "not before")
            await asyncio.sleep(wait)
        return await self._attempt(task, key, claim)

    async def _retract(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        now = utcnow()
        state, original = await self.claims.cancel_pending(task.delivery_id, now)
        if state == "cancelled":  # nothing was posted, and now nothing will be
            publish = task.model_copy(update={"action": DeliveryAction.PUBLISH})
            outcome = _completed(publish, DeliveryStatus.CANCELLED, 0, "cancelled before posting")
            return Handled([outcome])
        key = event_id(task)
        claim = await self.claims.claim(key, _task_doc(task), now, reopen=REPLAY_HEADER in headers)
        if claim.result != "claimed":
            return self._not_claimed(task, claim)
        if state == "sending":  # being posted right now: retract once that ended
            return await self._later(task, key, claim, now + RETRACT_WAIT, "waiting for the post")
        posted = (original.get("outcome") or {}).get("status") == DeliveryStatus.DELIVERED
        if not posted:
            return await self._end(task, key, DeliveryStatus.SKIPPED, 0, "nothing was posted")
        return await self._attempt(task, key, claim)

    async def _attempt(self, task: DeliveryPlanned, key: str, claim: Claim) -> Handled:
        """One attempt, unless the channel's rate limit or circuit says later."""
        now = utcnow()
        slot = claim.doc.get("slot")
        if not (slot and slot <= (now + timedelta(seconds=self.inline_wait)).isoformat()):
            wait = self.limits.reserve(task.channel_id, task.rate_per_minute, time.monotonic())
            if wait > self.inline_wait:
                due = now + timedelta(seconds=wait)
                return await self._later(task, key, claim, due, "rate limit", slot=due)
            if wait > 0:
                await asyncio.sleep(wait)
        circuit = self.breakers.circuit(task.channel_id, task.kind, task.province)
        wait = self.breakers.admit(circuit, time.monotonic())
        if wait > 0:
            due = utcnow() + timedelta(seconds=wait)
            return await self._later(task, key, claim, due, f"circuit {circuit.state.value}")
        attempt = await self.send(task)
        self.breakers.record(circuit, attempt, time.monotonic())
        attempts = claim.attempts + 1
        return await self._after(task, key, claim, attempts, attempt, circuit)

    async def _after(
        self,
        task: DeliveryPlanned,
        key: str,
        claim: Claim,
        attempts: int,
        attempt: Attempt,
        circuit: Circuit,
    ) -> Handled:
        if attempt.verdict is Verdict.DELIVERED and task.action is DeliveryAction.PUBLISH:
            return await self._end(task, key, DeliveryStatus.DELIVERED, attempts, attempt.summary)
        if task.action is DeliveryAction.RETRACT and attempt.verdict in _RETRACT_STATUS:
            status = _RETRACT_STATUS[attempt.verdict]
            return await self._end(task, key, status, attempts, attempt.summary)
        if attempt.verdict is Verdict.RETRY:
            now = utcnow()
            first = _parse(claim.doc.get("first_at")) or now
            due = self.policy.next_attempt_at(attempts, now, first, attempt.retry_after)
            if due is not None:
                await self.claims.schedule(
                    key, due, attempts=attempts, reason=attempt.summary, task=_task_doc(task)
                )
                log.info(
                    "delivery_retry_scheduled",
                    delivery_id=task.delivery_id,
                    channel_id=task.channel_id,
                    announcement_id=task.announcement_id,
                    attempts=attempts,
                    due=due.isoformat(),
                    response=attempt.summary[:200],
                )
                return Handled()
            summary = f"gave up after {attempts} attempts: {attempt.summary}"
        else:
            summary = attempt.summary
            if attempt.needs_reconnect:
                summary = f"channel needs reconnect: {summary}"
        handled = await self._end(task, key, DeliveryStatus.FAILED, attempts, summary)
        handled.dead_letter = f"delivery_failed: {summary}"
        return handled

    async def _later(
        self,
        task: DeliveryPlanned,
        key: str,
        claim: Claim,
        due: datetime,
        reason: str,
        *,
        slot: datetime | None = None,
    ) -> Handled:
        """Put the task on the durable schedule without counting an attempt."""
        doc = _task_doc(task)
        await self.claims.schedule(
            key, due, attempts=claim.attempts, reason=reason, task=doc, slot=slot
        )
        return Handled()

    def _not_claimed(self, task: DeliveryPlanned, claim: Claim) -> Handled:
        log.info("delivery_skipped", delivery_id=task.delivery_id, action=task.action.value,
                 state=claim.result)  # fmt: skip
        outcome = claim.doc.get("outcome") if claim.result == "done" else None
        if outcome:  # a copy after a crash: say again how it ended (idempotent downstream)
            return Handled([DeliveryCompleted.model_validate(outcome)])
        return Handled()

    async def send(self, task: DeliveryPlanned) -> Attempt:
        """One attempt through the transport the endpoint's scheme chooses."""
        try:
            url = self.secrets.fill(task.endpoint)
            secret = self.secrets.get(task.secret) if task.secret else None
        except MissingSecret as exc:
            return Attempt(Verdict.PERMANENT, str(exc))
        webhook = task.endpoint.startswith(("http://", "https://"))
        # checked again at send time: the registry refuses such endpoints, but a task may
        # come from before a rule changed, or from a replayed dead letter; names are checked
        # as they resolve, when the transport connects (guard.py)
        if webhook and (refused := refused_reason(urlsplit(url).hostname, self.allowlist)):
            return Attempt(Verdict.PERMANENT, f"endpoint refused: {refused}")
        try:
            async with asyncio.timeout(self.send_timeout):
                if webhook:
                    attempt = await self.webhooks.send(task, url, secret)
                else:
                    attempt = await self.apprise.send(task, url)
        except TimeoutError:
            attempt = Attempt(Verdict.RETRY, f"timeout: no answer within {self.send_timeout:g} s")
        return _scrubbed(attempt, self.secrets.values_in(task.endpoint, task.secret))

    async def _end(
        self, task: DeliveryPlanned, key: str, status: DeliveryStatus, attempts: int, summary: str
    ) -> Handled:
        outcome = _completed(task, status, attempts, summary)
        await self.claims.finish(key, outcome)
        level = logging.INFO
        if status is DeliveryStatus.DELIVERED:
            span = trace.get_current_span().get_span_context()
            trace_id = format(span.trace_id, "032x") if span.is_valid else None
            if not self.tally.add(task.announcement_id, status.value, trace_id):
                level = logging.DEBUG  # counted in the announcement's next summary line
        if _std_log.isEnabledFor(level):  # skip building a line nobody reads
            log.log(
                level, "delivery_finished", delivery_id=task.delivery_id,
                channel_id=task.channel_id, announcement_id=task.announcement_id,
                action=task.action.value, status=status.value, attempts=attempts,
                response=summary[:200],
            )  # fmt: skip
        return Handled([outcome])


def _task_doc(task: DeliveryPlanned) -> dict[str, Any]:
    return task.model_dump(mode="json")


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _scrubbed(attempt: Attempt, secrets: list[str]) -> Attempt:
    """The attempt with every secret value cut out of its summary."""
    summary = attempt.summary
    for value in secrets:
        if value:
            summary = summary.replace(value, "***")
    if summary == attempt.summary:
        return attempt
    return Attempt(attempt.verdict, summary, attempt.status, attempt.retry_after)


def _completed(
    task: DeliveryPlanned, status: DeliveryStatus, attempts: int, summary: str
) -> DeliveryCompleted:
    return DeliveryCompleted.of(task, status, attempts=attempts, response=summary)
