"""A delivery's claim as stored: a frozen record and the states it moves through.

- ``claimed``: an instance (``owner``) is sending it until ``lease_until``; a claim whose
  lease expired (its instance crashed) is sent again, with the same Idempotency-Key;
- ``waiting``: due again at ``due`` (a retry, a rate-limit slot, an open circuit,
  ``not_before``); the scheduler re-queues it on the retry topic when due;
- ``queued``: re-queued on the retry topic, to be claimed by whichever copy comes first;
- ``done`` (with ``outcome``) or ``cancelled``: later copies are skipped.

Each revision of a delivery has a record of its own (keyed as its Idempotency-Key, see
webhook.delivery_key); a later revision stops the earlier ones not posted yet (``done``
with the outcome ``superseded``, `Claims.supersede`) before it is claimed itself.

Every change after the first insert is conditional on the version ``v`` that was read, so
two copies of a task can never both win a claim. Times are stored as ISO-8601 text (the
store compares them as text), exactly as `datetime.isoformat` writes them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus

#: A time as the claims store it: `isoformat()` text, so that stored times compare in order.
Stamp = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]
#: Fields the store indexes (the schedule's queries).
INDEXES = ("state", "due", "lease_until")
#: Outcomes a replayed dead letter may send again.
REOPENABLE = frozenset({DeliveryStatus.FAILED, DeliveryStatus.EXPIRED})


class ClaimState(StrEnum):
    CLAIMED = "claimed"
    WAITING = "waiting"
    QUEUED = "queued"
    DONE = "done"
    CANCELLED = "cancelled"


class Claim(BaseModel):
    """One delivery's (or retraction's) record of never-twice and its place in the schedule."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    key: str
    state: ClaimState
    version: int = Field(0, alias="v")
    attempts: int = 0
    first_at: Stamp | None = None
    owner: str | None = None
    lease_until: Stamp | None = None
    task: DeliveryPlanned | None = None
    outcome: DeliveryCompleted | None = None
    due: Stamp | None = None
    slot: Stamp | None = Field(None, description="a rate-limit slot reserved for `due`")
    reason: str | None = None
    trace: dict[str, str] | None = None
    queued_at: Stamp | None = None
    at: Stamp | None = Field(None, description="when it was cancelled")
    final_at: Stamp | None = Field(
        None, description="when it became final (done or cancelled); retention counts from here"
    )

    def doc(self, *fields: str) -> dict[str, Any]:
        """The stored form: the whole record (fields without a value left out, as a record
        replaced whole reads them back empty), or the named fields, empty ones included
        (an update clears them)."""
        if fields:
            return self.model_dump(mode="json", by_alias=True, include=set(fields))
        whole = self.model_dump(mode="json", by_alias=True)
        return {name: value for name, value in whole.items() if value is not None}

    def posted(self) -> bool:
        """Whether it ended delivered (what a retraction may retract)."""
        return self.outcome is not None and self.outcome.status is DeliveryStatus.DELIVERED


class Begun(StrEnum):
    """How `Claims.begin` answered."""

    CLAIMED = "claimed"  # sending is ours now
    DONE = "done"  # finished already (its outcome may be restated)
    SCHEDULED = "scheduled"  # waiting for its due time
    BUSY = "busy"  # being sent by someone else right now


class Superseded(StrEnum):
    """How `Claims.supersede` answered for an earlier revision of a delivery."""

    AHEAD = "ahead"  # not seen yet: when it comes, it is superseded, never posted
    STOPPED = "stopped"  # waiting or queued: stopped, never posted
    SENDING = "sending"  # being posted right now: the later revision waits for it
    FINISHED = "finished"  # it ended before (posted, failed, cancelled or superseded)


class Cancelled(StrEnum):
    """How `Claims.cancel_pending` answered."""

    CANCELLED = "cancelled"  # nothing was posted, and now nothing will be
    SENDING = "sending"  # being posted right now
    FINISHED = "finished"  # it ended before the cancel
