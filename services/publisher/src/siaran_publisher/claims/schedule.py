"""The durable retry schedule, kept in the claims' own records: what is due again (waiting
and due, or left by an instance whose lease ran out) and the mark that it was re-queued."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from siaran_shared.logging import get_logger

from siaran_publisher.claims.records import Claim, ClaimState

if TYPE_CHECKING:
    from siaran_publisher.batching import Serialised

log = get_logger(__name__)


class RetrySchedule:
    """Reads and marks the schedule; `Claims.wait` puts deliveries on it."""

    def __init__(self, docs: Serialised, lease: timedelta) -> None:
        self._docs = docs
        self._lease = lease

    async def due(self, now: datetime, limit: int) -> list[Claim]:
        """Deliveries to re-queue: waiting and due, or claimed/queued by an instance whose
        lease ran out (it crashed, or its retry-topic record was lost)."""
        stamp = now.isoformat()
        stale = (now - self._lease).isoformat()
        # One query per state, so each uses the index on `state` and reads few rows.
        docs = await self._docs.find(
            {"state": ClaimState.WAITING.value, "due": {"$lte": stamp}}, order_by="due",
            limit=limit,
        )  # fmt: skip
        docs += await self._docs.find(
            {"state": ClaimState.CLAIMED.value, "lease_until": {"$lt": stamp}}, limit=limit
        )
        docs += await self._docs.find(
            {"state": ClaimState.QUEUED.value, "queued_at": {"$lt": stale}}, limit=limit
        )
        due = []
        for doc in docs:
            try:
                claim = Claim.model_validate(doc)
            except ValidationError as exc:
                log.error("scheduled_task_unreadable", key=doc.get("key"), error=str(exc)[:300])
                continue
            if claim.task is not None:
                due.append(claim)
        return due

    async def requeued(self, claim: Claim, now: datetime) -> bool:
        """Mark a due delivery as re-queued, unless it changed since it was read."""
        change = {"state": ClaimState.QUEUED, "queued_at": now, "owner": None,
                  "lease_until": None, "version": claim.version + 1}  # fmt: skip
        marked = claim.model_copy(update=change)
        return await self._docs.update(claim.key, marked.doc(*change), where={"v": claim.version})
