"""Never twice: each delivery is claimed in the store before it is sent and its outcome
recorded after. The same documents are the durable retry schedule.

A delivery's document moves through these states:

- ``claimed``: an instance (``owner``) is sending it until ``lease_until``; a claim whose
  lease expired (its instance crashed) is sent again, with the same Idempotency-Key;
- ``waiting``: due again at ``due`` (a retry, a rate-limit slot, an open circuit,
  ``not_before``); the scheduler re-queues it on the retry topic when due;
- ``queued``: re-queued on the retry topic, to be claimed by whichever copy comes first;
- ``done`` (with ``outcome``) or ``cancelled``: later copies are skipped.

Every change after the first insert is conditional on the version ``v`` that was read, so
two copies of a task can never both win a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from siaran_shared.events import DeliveryCompleted, DeliveryStatus
from siaran_shared.store import Collection
from siaran_shared.tracing import trace_carrier

from siaran_publisher.batching import Serialised, WriteBatcher

ClaimResult = Literal["claimed", "done", "scheduled", "busy"]
CancelResult = Literal["cancelled", "sending", "finished"]
INDEXES = ("state", "due", "lease_until")
REOPENABLE = (DeliveryStatus.FAILED.value, DeliveryStatus.EXPIRED.value)


@dataclass(frozen=True, slots=True)
class Claim:
    result: ClaimResult
    doc: dict[str, Any] = field(default_factory=dict)

    @property
    def attempts(self) -> int:
        """Attempts made before this claim."""
        return int(self.doc.get("attempts", 0))

    @property
    def version(self) -> int:
        return int(self.doc.get("v", 0))


class Claims:
    """Delivery states keyed by delivery id (retractions by their own key)."""

    def __init__(self, docs: Collection, owner: str, lease: timedelta) -> None:
        self._owner = owner
        self._lease = lease
        self._writes = WriteBatcher(docs)  # claims and outcomes, grouped per round trip
        # Every other call of this collection takes the batcher's lock too: one call at a
        # time. The SQLite store's commit fails ("SQL statements in progress") when another
        # call's cursor is open on the same connection at that moment.
        self._docs = Serialised(docs, self._writes.lock)
        self._local: dict[str, dict[str, Any]] = {}  # claimed here and being sent: the doc
        # sent, and the outcome's write not durable yet (it failed): the next copy of the
        # task writes it again instead of sending, however long the store stays down
        self._unrecorded: dict[str, DeliveryCompleted] = {}

    @property
    def lease(self) -> timedelta:
        return self._lease

    async def claim(
        self,
        key: str,
        task: dict[str, Any],
        now: datetime,
        *,
        reopen: bool = False,
        tries: int = 3,
    ) -> Claim:
        """Take the delivery for sending, unless it is finished, scheduled or taken.

        A document changed between its read and the conditional write (the scheduler marks
        a re-queued delivery "queued" after publishing it, so its copy may arrive first) is
        read again, up to `tries` times: a "busy" answer drops this copy of the task."""
        unrecorded = self._unrecorded.get(key)
        if unrecorded is not None:
            await self.finish(key, unrecorded)
            return Claim("done", {"outcome": unrecorded.model_dump(mode="json")})
        if key in self._local:
            return Claim("busy")
        fresh: dict[str, Any] = {
            "state": "claimed",
            "owner": self._owner,
            "lease_until": (now + self._lease).isoformat(),
            "task": task,
        }
        doc = {**fresh, "key": key, "attempts": 0, "v": 1, "first_at": now.isoformat()}
        if await self._writes.insert(key, doc):
            self._local[key] = doc
            return Claim("claimed", doc)
        current = await self._docs.get(key)
        if current is None:  # deleted in between: try once more from the start
            return await self.claim(key, task, now, reopen=reopen)
        state = current.get("state")
        if state in ("done", "cancelled"):
            status = (current.get("outcome") or {}).get("status")
            if not (reopen and state == "done" and status in REOPENABLE):
                return Claim("done", current)
            fresh.update({"attempts": 0, "first_at": now.isoformat(), "outcome": None})
        elif state == "waiting" and current.get("due", "") > now.isoformat():
            return Claim("scheduled", current)
        elif state == "claimed" and current.get("lease_until", "") > now.isoformat():
            return Claim("busy", current)
        version = int(current.get("v", 0))
        if not await self._docs.update(key, {**fresh, "v": version + 1}, where={"v": version}):
            if tries > 1:
                return await self.claim(key, task, now, reopen=reopen, tries=tries - 1)
            return Claim("busy", current)
        claimed = {**current, **fresh, "v": version + 1}
        self._local[key] = claimed
        return Claim("claimed", claimed)

    async def schedule(
        self,
        key: str,
        due: datetime,
        *,
        attempts: int,
        reason: str,
        task: dict[str, Any],
        slot: datetime | None = None,
    ) -> None:
        """Hand a claimed delivery to the durable schedule, due again at `due`.

        `slot` records a rate-limit slot already reserved for that time."""
        self._local.pop(key, None)
        await self._docs.update(
            key,
            {
                "state": "waiting",
                "due": due.isoformat(),
                "attempts": attempts,
                "reason": reason[:300],
                "task": task,
                "slot": slot.isoformat() if slot else None,
                "owner": None,
                "lease_until": None,
                # the delivery's trace, for whichever instance re-queues it, however late
                "trace": trace_carrier(str(task.get("delivery_id", key))),
            },
            where={"owner": self._owner, "state": "claimed"},
        )

    async def finish(self, key: str, outcome: DeliveryCompleted) -> None:
        """Record the terminal outcome; later copies of the task are skipped.

        The claim's document is replaced whole (it was claimed here, so nobody else changed
        it meanwhile unless our lease ran out, and then "done" is still the truth), which
        lets outcomes share a round trip with other claims' writes."""
        claimed = self._local.get(key)
        changes = {
            "state": "done",
            "outcome": outcome.model_dump(mode="json"),
            "attempts": outcome.attempts,
            "lease_until": None,
            "task": None,
        }
        self._unrecorded[key] = outcome  # until the write below is durable
        if claimed is None:  # not claimed by this instance: change only these fields
            await self._docs.update(key, changes)
        else:
            await self._writes.put(key, {**claimed, **changes})
        self._unrecorded.pop(key, None)
        self._local.pop(key, None)

    def release(self, key: str) -> None:
        """Forget a local claim that ended without an outcome (shutdown); its lease runs out."""
        self._local.pop(key, None)

    async def cancel_pending(self, key: str, now: datetime) -> tuple[CancelResult, dict[str, Any]]:
        """Cancel a delivery not sent yet: "cancelled" here, "sending" now, or "finished"."""
        doc = {"key": key, "state": "cancelled", "at": now.isoformat(), "v": 1}
        if await self._docs.insert(key, doc):
            return "cancelled", doc
        current = await self._docs.get(key)
        if current is None:
            return await self.cancel_pending(key, now)
        state = current.get("state")
        if state in ("waiting", "queued"):
            version = int(current.get("v", 0))
            changes = {"state": "cancelled", "at": now.isoformat(), "task": None, "v": version + 1}
            if await self._docs.update(key, changes, where={"v": version}):
                return "cancelled", current
            return await self.cancel_pending(key, now)
        if state == "claimed":
            return "sending", current
        return "finished", current

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self._docs.get(key)

    async def due(self, now: datetime, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """Deliveries to re-queue: waiting and due, or claimed/queued by an instance whose
        lease ran out (it crashed, or its retry-topic record was lost)."""
        stamp = now.isoformat()
        stale = (now - self._lease).isoformat()
        # One query per state, so each uses the index on `state` and reads few rows.
        docs = await self._docs.find(
            {"state": "waiting", "due": {"$lte": stamp}}, order_by="due", limit=limit
        )
        docs += await self._docs.find(
            {"state": "claimed", "lease_until": {"$lt": stamp}}, limit=limit
        )
        docs += await self._docs.find({"state": "queued", "queued_at": {"$lt": stale}}, limit=limit)
        return [(d["key"], d) for d in docs if d.get("key") and d.get("task")]

    async def queued(self, key: str, doc: dict[str, Any], now: datetime) -> bool:
        """Mark a due delivery as re-queued, unless it changed since it was read."""
        version = int(doc.get("v", 0))
        changes = {
            "state": "queued",
            "queued_at": now.isoformat(),
            "owner": None,
            "lease_until": None,
            "v": version + 1,
        }
        return await self._docs.update(key, changes, where={"v": version})
