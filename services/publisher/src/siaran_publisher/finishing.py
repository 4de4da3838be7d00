"""How a claimed delivery stops being handled now: a terminal outcome (recorded, counted,
logged), a place on the durable schedule, or, for a copy that was not claimed, the outcome
it already had, stated again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry import trace
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus
from siaran_shared.logging import get_logger

from siaran_publisher.claims import Begun, Claim, Claims
from siaran_publisher.tally import Tally

log = get_logger(__name__)
_std_log = logging.getLogger(__name__)  # what structlog's stdlib logger passes lines to


@dataclass
class Handled:
    """What handling one task produced: outcomes to publish and, maybe, a dead letter."""

    results: list[DeliveryCompleted] = field(default_factory=list)
    dead_letter: str | None = None


@dataclass
class Finishing:
    """Ends, defers or restates claimed deliveries."""

    claims: Claims
    #: delivered outcomes, logged together (see tally.py)
    tally: Tally = field(default_factory=Tally)

    async def end(
        self, task: DeliveryPlanned, claim: Claim, status: DeliveryStatus, attempts: int,
        summary: str, post_id: str | None = None,
    ) -> Handled:  # fmt: skip
        """Record the terminal outcome and say so."""
        outcome = DeliveryCompleted.of(task, status, attempts=attempts, response=summary,
                                       post_id=post_id)  # fmt: skip
        await self.claims.finish(claim, outcome)
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
                action=task.action.value, revision=task.revision, status=status.value,
                attempts=attempts,
                response=summary[:200],
            )  # fmt: skip
        return Handled([outcome])

    async def later(
        self, task: DeliveryPlanned, claim: Claim, due: datetime, reason: str, *,
        attempts: int | None = None, slot: datetime | None = None,
    ) -> Handled:  # fmt: skip
        """Put the delivery on the durable schedule (without counting an attempt unless
        `attempts` says how many were made)."""
        made = claim.attempts if attempts is None else attempts
        await self.claims.wait(claim, task, due, attempts=made, reason=reason, slot=slot)
        return Handled()

    def restate(self, task: DeliveryPlanned, begun: Begun, claim: Claim | None) -> Handled:
        """A copy that was not claimed: the outcome it had, if it is finished."""
        log.info("delivery_skipped", delivery_id=task.delivery_id, action=task.action.value,
                 revision=task.revision, state=begun.value)  # fmt: skip
        if begun is Begun.DONE and claim is not None and claim.outcome is not None:
            # a copy after a crash: say again how it ended (idempotent downstream)
            return Handled([claim.outcome])
        return Handled()
