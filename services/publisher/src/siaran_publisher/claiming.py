"""The opening every delivery shares, publication or retraction: take its claim (or say
how a copy that was not claimed ended), then the channel as it is now (or why it is gone).
A correction (revision N >= 2) first replaces the delivery's earlier revisions not posted
yet: they are superseded, never posted (see `Claims.supersede`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from siaran_shared.events import DeliveryAction, DeliveryCompleted, DeliveryPlanned, DeliveryStatus
from siaran_shared.logging import get_logger

from siaran_publisher.attempts import Attempts
from siaran_publisher.channels import CurrentChannels
from siaran_publisher.claims import Begun, Claim, Claims, Superseded
from siaran_publisher.finishing import Finishing, Handled
from siaran_publisher.webhook import event_id

log = get_logger(__name__)
#: Header the dead-letter replay sets: a failed or expired delivery may be tried again.
REPLAY_HEADER = "siaran-replayed-at"
#: How long a delivery waits for a send to the same channel that it must follow (the post
#: it retracts, the earlier revision it corrects) to end.
SEND_WAIT = timedelta(seconds=5)


@dataclass
class Replacing:
    """What a correction found of its delivery's earlier revisions."""

    #: outcomes of earlier revisions stopped now (superseded, never to be posted)
    superseded: list[DeliveryCompleted] = field(default_factory=list)
    #: an earlier revision being posted right now, which the correction must follow
    sending: int | None = None


@dataclass
class Claiming:
    """Claims tasks for sending, as their channels are now."""

    claims: Claims
    channels: CurrentChannels
    finishing: Finishing

    async def replace_earlier(self, task: DeliveryPlanned, now: datetime) -> Replacing:
        """Supersede the earlier revisions of the task's delivery not posted yet."""
        replacing = Replacing()
        if task.action is not DeliveryAction.PUBLISH:
            return replacing
        for revision in range(1, task.revision):
            earlier = task.model_copy(update={"revision": revision})
            state, claim = await self.claims.supersede(event_id(earlier), earlier, task.revision,
                                                       now)  # fmt: skip
            if state is Superseded.STOPPED and claim.outcome is not None:
                log.info("delivery_superseded", delivery_id=task.delivery_id,
                         revision=revision, by=task.revision)  # fmt: skip
                replacing.superseded.append(claim.outcome)
            elif state is Superseded.SENDING:
                replacing.sending = revision
        return replacing

    async def take(
        self, task: DeliveryPlanned, headers: Mapping[str, str], now: datetime
    ) -> tuple[DeliveryPlanned, Claim] | Handled:
        """The task (as its channel is now) and its claim; or how handling it ends here."""
        reopen = REPLAY_HEADER in headers and not await self._corrected(task)
        begun, claim = await self.claims.begin(event_id(task), task, now, reopen=reopen)
        if begun is not Begun.CLAIMED or claim is None:
            return self.finishing.restate(task, begun, claim)
        task, gone = self.channels.honour(task)
        if gone:
            return await self.finishing.end(task, claim, DeliveryStatus.SKIPPED, claim.attempts,
                                            gone)  # fmt: skip
        return task, claim

    async def _corrected(self, task: DeliveryPlanned) -> bool:
        """Whether a later revision of the task's delivery was seen (a failed revision's
        dead letter, replayed then, is not posted after it)."""
        if task.action is not DeliveryAction.PUBLISH:
            return False
        later = task.model_copy(update={"revision": task.revision + 1})
        return await self.claims.get(event_id(later)) is not None


@dataclass
class Step:
    """What publishing and retraction each work with: the opening and one attempt."""

    claiming: Claiming
    attempts: Attempts

    @property
    def finishing(self) -> Finishing:
        return self.attempts.finishing
