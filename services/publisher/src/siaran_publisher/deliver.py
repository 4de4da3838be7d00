"""Delivering one task: expiry, claim, send through the right transport, record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from siaran_shared.events import (
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    utcnow,
)
from siaran_shared.logging import get_logger

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.claims import Claims
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.secrets import MissingSecret, Secrets
from siaran_publisher.webhook import WebhookSender, event_id

log = get_logger(__name__)


@dataclass
class Deliverer:
    """Sends tasks once each and says how each ended."""

    claims: Claims
    secrets: Secrets
    webhooks: WebhookSender
    apprise: AppriseSender

    async def deliver(self, task: DeliveryPlanned) -> DeliveryCompleted | None:
        """The terminal outcome of a task, or None when another copy owns or owned it."""
        now = utcnow()
        key = event_id(task)
        if task.action is DeliveryAction.RETRACT:
            return await self._retract(task, now)
        if task.expires_at is not None and task.expires_at <= now:
            return await self._end(task, key, DeliveryStatus.EXPIRED, 0, "expired before posting")
        claim = await self.claims.claim(key, now)
        if claim.result != "claimed":
            log.info("delivery_skipped", delivery_id=task.delivery_id, state=claim.result)
            return None
        attempt = await self.send(task)
        attempts = (claim.doc or {}).get("attempts", 0) + 1
        status = (
            DeliveryStatus.DELIVERED
            if attempt.verdict is Verdict.DELIVERED
            else DeliveryStatus.FAILED
        )
        return await self._end(task, key, status, attempts, attempt.summary)

    async def _retract(self, task: DeliveryPlanned, now: datetime) -> DeliveryCompleted | None:
        original = await self.claims.get(task.delivery_id)
        if original is None or original.get("state") in ("claimed", "waiting"):
            if await self.claims.cancel_pending(task.delivery_id, now):
                return self._completed(
                    task.model_copy(update={"action": DeliveryAction.PUBLISH}),
                    DeliveryStatus.CANCELLED,
                    0,
                    "cancelled before posting",
                )
            original = await self.claims.get(task.delivery_id)
        outcome = (original or {}).get("outcome") or {}
        if outcome.get("status") != DeliveryStatus.DELIVERED:
            return None  # nothing was posted, so there is nothing to retract
        key = event_id(task)
        claim = await self.claims.claim(key, now)
        if claim.result != "claimed":
            return None
        attempt = await self.send(task)
        status = {
            Verdict.DELIVERED: DeliveryStatus.RETRACTED,
            Verdict.UNSUPPORTED: DeliveryStatus.SKIPPED,
        }.get(attempt.verdict, DeliveryStatus.FAILED)
        return await self._end(task, key, status, 1, attempt.summary)

    async def send(self, task: DeliveryPlanned) -> Attempt:
        """One attempt through the transport the endpoint's scheme chooses."""
        try:
            url = self.secrets.fill(task.endpoint)
            secret = self.secrets.get(task.secret) if task.secret else None
        except MissingSecret as exc:
            return Attempt(Verdict.PERMANENT, str(exc))
        if task.endpoint.startswith(("http://", "https://")):
            return await self.webhooks.send(task, url, secret)
        return await self.apprise.send(task, url)

    async def _end(
        self, task: DeliveryPlanned, key: str, status: DeliveryStatus, attempts: int, summary: str
    ) -> DeliveryCompleted:
        outcome = self._completed(task, status, attempts, summary)
        await self.claims.finish(key, outcome)
        return outcome

    @staticmethod
    def _completed(
        task: DeliveryPlanned, status: DeliveryStatus, attempts: int, summary: str
    ) -> DeliveryCompleted:
        now = utcnow()
        return DeliveryCompleted(
            delivery_id=task.delivery_id,
            announcement_id=task.announcement_id,
            channel_id=task.channel_id,
            region=task.region,
            province=task.province,
            kind=task.kind,
            action=task.action,
            status=status,
            attempts=attempts,
            accepted_at=task.accepted_at,
            completed_at=now,
            latency_seconds=(now - task.accepted_at).total_seconds()
            if status is DeliveryStatus.DELIVERED
            else None,
            response=summary[:300],
        )
