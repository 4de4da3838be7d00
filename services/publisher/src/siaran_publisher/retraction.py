"""Retracting a delivery after its announcement was cancelled: one not posted yet is
cancelled (and never posted); one being posted is retracted once that ended; one posted is
deleted where the channel can (a webhook's retraction event; Apprise cannot delete)."""

from __future__ import annotations

from collections.abc import Mapping

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

#: How long a retraction waits for the send it retracts to finish.
RETRACT_WAIT = SEND_WAIT


class Retraction(Step):
    """Takes back what a delivery posted, or makes sure it never posts."""

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str]) -> Handled:
        now = utcnow()
        state, original = await self.claiming.claims.cancel_pending(task.delivery_id, now)
        if state is Cancelled.CANCELLED:  # nothing was posted, and now nothing will be
            publish = task.model_copy(update={"action": DeliveryAction.PUBLISH})
            return Handled([DeliveryCompleted.of(publish, DeliveryStatus.CANCELLED, attempts=0,
                                                 response="cancelled before posting")])  # fmt: skip
        taken = await self.claiming.take(task, headers, now)
        if isinstance(taken, Handled):
            return taken
        task, claim = taken
        finishing = self.finishing
        if state is Cancelled.SENDING:  # being posted right now: retract once that ended
            return await finishing.later(task, claim, now + RETRACT_WAIT, "waiting for the post")
        if not original.posted():
            return await finishing.end(task, claim, DeliveryStatus.SKIPPED, 0, "nothing was posted")
        return await self.attempts.make(task, claim)
