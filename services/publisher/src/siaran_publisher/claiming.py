"""The opening every delivery shares, publication or retraction: take its claim (or say
how a copy that was not claimed ended), then the channel as it is now (or why it is gone)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from siaran_shared.events import DeliveryPlanned, DeliveryStatus

from siaran_publisher.attempts import Attempts
from siaran_publisher.channels import CurrentChannels
from siaran_publisher.claims import Begun, Claim, Claims
from siaran_publisher.finishing import Finishing, Handled
from siaran_publisher.webhook import event_id

#: Header the dead-letter replay sets: a failed or expired delivery may be tried again.
REPLAY_HEADER = "siaran-replayed-at"


@dataclass
class Claiming:
    """Claims tasks for sending, as their channels are now."""

    claims: Claims
    channels: CurrentChannels
    finishing: Finishing

    async def take(
        self, task: DeliveryPlanned, headers: Mapping[str, str], now: datetime
    ) -> tuple[DeliveryPlanned, Claim] | Handled:
        """The task (as its channel is now) and its claim; or how handling it ends here."""
        begun, claim = await self.claims.begin(
            event_id(task), task, now, reopen=REPLAY_HEADER in headers
        )
        if begun is not Begun.CLAIMED or claim is None:
            return self.finishing.restate(task, begun, claim)
        task, gone = self.channels.honour(task)
        if gone:
            return await self.finishing.end(task, claim, DeliveryStatus.SKIPPED, claim.attempts,
                                            gone)  # fmt: skip
        return task, claim


@dataclass
class Step:
    """What publishing and retraction each work with: the opening and one attempt."""

    claiming: Claiming
    attempts: Attempts

    @property
    def finishing(self) -> Finishing:
        return self.attempts.finishing
