"""Never twice: each delivery is claimed in the store before it is sent and its outcome
recorded after. `Claims` is the only code that speaks the store about claims; the logic
calls its transitions by name and gets `Claim` records back (states: records.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus
from siaran_shared.logging import get_logger
from siaran_shared.store import Collection, GroupWriter
from siaran_shared.tracing import trace_carrier

from siaran_publisher.batching import Serialised
from siaran_publisher.claims.cache import LocalClaims
from siaran_publisher.claims.records import (
    REOPENABLE,
    Begun,
    Cancelled,
    Claim,
    ClaimState,
    Superseded,
)
from siaran_publisher.claims.schedule import RetrySchedule

log = get_logger(__name__)
#: The parts of a record another version may have written differently.
_PAYLOAD = frozenset({"task", "outcome"})


class Claims:
    """Delivery claims keyed by delivery id (retractions by their own key)."""

    def __init__(self, docs: Collection, owner: str, lease: timedelta) -> None:
        self._owner = owner
        self._lease = lease
        self._writes = GroupWriter(docs)  # claims and outcomes, grouped per round trip
        # Every other call of this collection takes the batcher's lock too: one call at a
        # time. The SQLite store's commit fails ("SQL statements in progress") when another
        # call's cursor is open on the same connection at that moment.
        self._docs = Serialised(docs, self._writes.lock)
        self._local = LocalClaims()
        #: the durable retry schedule kept in the same records
        self.schedule = RetrySchedule(self._docs, lease)

    async def begin(
        self,
        key: str,
        task: DeliveryPlanned,
        now: datetime,
        *,
        reopen: bool = False,
        tries: int = 3,
    ) -> tuple[Begun, Claim | None]:
        """Take the delivery for sending, unless it is finished, scheduled or taken.

        A record changed between its read and the conditional write (the scheduler marks a
        re-queued delivery "queued" after publishing it, so its copy may arrive first) is
        read again, up to `tries` times: a "busy" answer drops this copy of the task."""
        unrecorded = self._local.unrecorded(key)
        if unrecorded is not None:  # sent here; its outcome's write failed: write it again
            await self._record(key, unrecorded)
            return Begun.DONE, Claim(key=key, state=ClaimState.DONE, outcome=unrecorded)
        if self._local.held(key) is not None:
            return Begun.BUSY, None
        taking: dict[str, Any] = {"state": ClaimState.CLAIMED, "owner": self._owner,
                                  "lease_until": now + self._lease, "task": task}  # fmt: skip
        fresh = Claim(key=key, version=1, first_at=now, **taking)
        if await self._writes.insert(key, fresh.doc()):
            self._local.holding(fresh)
            return Begun.CLAIMED, fresh
        current = await self._read(key)
        if current is None:  # deleted in between: try once more from the start
            return await self.begin(key, task, now, reopen=reopen)
        if current.state in (ClaimState.DONE, ClaimState.CANCELLED):
            if not (reopen and current.state is ClaimState.DONE and current.outcome
                    and current.outcome.status in REOPENABLE):  # fmt: skip
                return Begun.DONE, current
            taking |= {"attempts": 0, "first_at": now, "outcome": None}
        elif current.state is ClaimState.WAITING and current.due and current.due > now:
            return Begun.SCHEDULED, current
        elif (
            current.state is ClaimState.CLAIMED
            and current.lease_until
            and (current.lease_until > now)
        ):
            return Begun.BUSY, current
        claimed = current.model_copy(update={**taking, "version": current.version + 1})
        if not await self._docs.update(
            key, claimed.doc(*taking, "version"), where={"v": current.version}
        ):
            if tries > 1:
                return await self.begin(key, task, now, reopen=reopen, tries=tries - 1)
            return Begun.BUSY, current
        self._local.holding(claimed)
        return Begun.CLAIMED, claimed

    async def wait(
        self,
        claim: Claim,
        task: DeliveryPlanned,
        until: datetime,
        *,
        attempts: int,
        reason: str,
        slot: datetime | None = None,
    ) -> None:
        """Hand a claimed delivery to the durable schedule, due again at `until`.

        `slot` records a rate-limit slot already reserved for that time."""
        self._local.handed_over(claim.key)
        waiting = Claim(
            key=claim.key, state=ClaimState.WAITING, due=until, attempts=attempts,
            reason=reason[:300], task=task, slot=slot,
            # the delivery's trace, for whichever instance re-queues it, however late
            trace=trace_carrier(task.delivery_id),
        )  # fmt: skip
        fields = ("state", "due", "attempts", "reason", "task", "slot", "owner", "lease_until")
        await self._docs.update(
            claim.key,
            waiting.doc(*fields, "trace"),
            where={"owner": self._owner, "state": ClaimState.CLAIMED.value},
        )

    async def finish(self, claim: Claim, outcome: DeliveryCompleted) -> None:
        """Record the terminal outcome; later copies of the task are skipped.

        Until the write is durable the claim stays this instance's: if the write fails, the
        next copy of the task (the consumer's redo, or the schedule's re-queue once the
        lease ran out) writes the outcome again and never sends a second time."""
        self._local.recording(claim.key, outcome)
        await self._record(claim.key, outcome)

    async def _record(self, key: str, outcome: DeliveryCompleted) -> None:
        done: dict[str, Any] = {
            "state": ClaimState.DONE,
            "outcome": outcome,
            "attempts": outcome.attempts,
            "lease_until": None,
            "task": None,
            "final_at": outcome.completed_at,
        }
        held = self._local.held(key)
        if held is None:  # not claimed by this instance: change only these fields
            await self._docs.update(key, Claim(key=key, **done).doc(*done))
        else:
            # The record is replaced whole (it was claimed here, so nobody else changed it
            # meanwhile unless our lease ran out, and then "done" is still the truth), which
            # lets outcomes share a round trip with other claims' writes.
            await self._writes.put(key, held.model_copy(update=done).doc())
        self._local.recorded(key)

    async def cancel_pending(self, key: str, now: datetime) -> tuple[Cancelled, Claim]:
        """Cancel a delivery not sent yet: "cancelled" here, "sending" now, or "finished"."""
        cancelled = Claim(key=key, state=ClaimState.CANCELLED, at=now, final_at=now, version=1)
        if await self._docs.insert(key, cancelled.doc()):
            return Cancelled.CANCELLED, cancelled
        current = await self._read(key)
        if current is None:
            return await self.cancel_pending(key, now)
        if current.state in (ClaimState.WAITING, ClaimState.QUEUED):
            change: dict[str, Any] = {"state": ClaimState.CANCELLED, "at": now, "final_at": now,
                                      "task": None, "version": current.version + 1}  # fmt: skip
            stopped = current.model_copy(update=change)
            if await self._docs.update(key, stopped.doc(*change), where={"v": current.version}):
                return Cancelled.CANCELLED, current
            return await self.cancel_pending(key, now)
        if current.state is ClaimState.CLAIMED:
            return Cancelled.SENDING, current
        return Cancelled.FINISHED, current

    async def supersede(
        self, key: str, earlier: DeliveryPlanned, by: int, now: datetime
    ) -> tuple[Superseded, Claim]:
        """Stop the earlier revision `earlier` (its record at `key`) of a delivery whose
        revision `by` is about to be claimed, unless it was posted or is being posted.

        Not seen yet, it is recorded "done, superseded" before it comes (its copy, when it
        comes, restates that); waiting, queued, or claimed by an instance whose lease ran
        out, it is stopped; claimed and leased (here or elsewhere) it is "sending"."""
        why = f"superseded by revision {by} before it was posted"
        ahead = DeliveryCompleted.of(earlier, DeliveryStatus.SUPERSEDED, attempts=0, response=why)
        placed = Claim(key=key, state=ClaimState.DONE, outcome=ahead, final_at=now, version=1)
        if await self._docs.insert(key, placed.doc()):
            return Superseded.AHEAD, placed
        current = await self._read(key)
        if current is None:  # deleted in between: from the start
            return await self.supersede(key, earlier, by, now)
        mine = self._local.held(key) or self._local.unrecorded(key)
        leased = current.lease_until is not None and current.lease_until > now
        if current.state is ClaimState.CLAIMED and (leased or mine):
            return Superseded.SENDING, current
        if current.state in (ClaimState.DONE, ClaimState.CANCELLED):
            return Superseded.FINISHED, current
        outcome = DeliveryCompleted.of(current.task or earlier, DeliveryStatus.SUPERSEDED,
                                       attempts=current.attempts, response=why)  # fmt: skip
        change: dict[str, Any] = {"state": ClaimState.DONE, "outcome": outcome, "task": None,
                                  "owner": None, "lease_until": None, "final_at": now,
                                  "version": current.version + 1}  # fmt: skip
        stopped = current.model_copy(update=change)
        if await self._docs.update(key, stopped.doc(*change), where={"v": current.version}):
            return Superseded.STOPPED, stopped
        return await self.supersede(key, earlier, by, now)  # it changed meanwhile: again

    async def get(self, key: str) -> Claim | None:
        """The stored record of a delivery, if any."""
        return await self._read(key)

    async def _read(self, key: str) -> Claim | None:
        doc = await self._docs.get(key)
        if doc is None:
            return None
        try:
            return Claim.model_validate(doc)
        except ValidationError as exc:
            # a task or outcome another version wrote: the state and version still decide
            # who may send (a record without even those fails loudly, and is retried)
            log.error("claim_unreadable", key=key, error=str(exc)[:300])
            return Claim.model_validate({k: v for k, v in doc.items() if k not in _PAYLOAD})
