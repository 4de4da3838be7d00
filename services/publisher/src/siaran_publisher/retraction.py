"""Retracting a delivery after its announcement was cancelled: one not posted yet is
cancelled (and never posted); one being posted is retracted once that ended; one posted is
deleted where the channel can (a webhook's retraction event; Apprise cannot delete).

A corrected announcement's delivery has a claim per revision: every revision is cancelled
or, if any of them was posted, the delivery is retracted (once: its retraction key does not
depend on the revision)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from siaran_shared.events import (
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    utcnow,
)

from siaran_publisher.claiming import SEND_WAIT, Step
from siaran_publisher.claims import Cancelled
from siaran_publisher.finishing import Handled
from siaran_publisher.webhook import event_id

#: How long a retraction waits for the send it retracts to finish.
RETRACT_WAIT = SEND_WAIT


@dataclass
class _Revisions:
    """What cancelling the publication's revisions found."""

    cancelled: list[DeliveryCompleted] = field(default_factory=list)
    sending: bool = False
    posted: bool = False


class Retraction(Step):
    """Takes back what a delivery posted, or makes sure it never posts."""

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        now = utcnow()
        found = await self._cancel_revisions(task, now)
        if found.cancelled and not (found.sending or found.posted):
            return Handled(found.cancelled)  # nothing was posted, and now nothing will be
        taken = await self.claiming.take(task, headers, now)
        if isinstance(taken, Handled):
            handled = taken
        elif found.sending:  # being posted right now: retract once that ended
            handled = await self.finishing.later(*taken, now + RETRACT_WAIT,
                                                 "waiting for the post")  # fmt: skip
        elif not found.posted:
            handled = await self.finishing.end(*taken, DeliveryStatus.SKIPPED, 0,
                                               "nothing was posted")  # fmt: skip
        else:
            handled = await self.attempts.make(*taken)
        handled.results[:0] = found.cancelled
        return handled

    async def _cancel_revisions(self, task: DeliveryPlanned, now: datetime) -> _Revisions:
        """Cancel each revision not posted yet: those up to the task's, and any later one
        already seen here."""
        claims = self.claiming.claims
        found = _Revisions()
        revision = 1
        while True:
            publication = task.model_copy(
                update={"action": DeliveryAction.PUBLISH, "revision": revision}
            )
            key = event_id(publication)
            if revision > task.revision and await claims.get(key) is None:
                return found
            state, original = await claims.cancel_pending(key, now)
            if state is Cancelled.CANCELLED:
                ended = original.task or publication
                found.cancelled.append(DeliveryCompleted.of(
                    ended, DeliveryStatus.CANCELLED, attempts=original.attempts,
                    response="cancelled before posting",
                ))  # fmt: skip
            found.sending |= state is Cancelled.SENDING
            found.posted |= original.posted()
            revision += 1
