"""The delivery ledger: every planned delivery and every outcome, merged by delivery id,
idempotent under replays and indifferent to arrival order.

Each announcement document also keeps its `totals`: its delivery documents counted per status
(`planned` counts them all), so that the list of recent announcements reads one document per
announcement instead of all its deliveries. The invariant, after every batch: an announcement
document's `totals` equal a count of the announcement's delivery documents. It is kept without
recounting (a national announcement has 3,312 deliveries and a batch comes every few ms):

- When an announcement's document is first created, its totals are counted once from the
  deliveries already in the ledger (plans and outcomes may arrive before their announcement)
  and written with it.
- After that, every batch adds what it changed. The ledger reads each delivery document
  before writing it, so it sees each transition: a new document adds 1 to `planned` and to its
  status, a status change takes 1 from the old status and adds 1 to the new. The changes are
  summed per announcement and added with one `increment_many`, which skips announcements
  whose document does not exist yet: those deliveries are counted when it is created.
- A replay changes no delivery document, so it adds nothing.

This relies on the ledger's writes coming one batch at a time (the metrics consumer handles
its batches in turn, announcements before plans and outcomes), so that a first count never
overlaps another batch's increments. Two metrics instances writing the same delivery
documents were never safe (each reads a document, then replaces it, so one can undo the
other's change); with MongoDB the increments themselves are atomic (`$inc`), so the totals
lose no update to each other. But with several instances in the consumer group, one
announcement's events reach several of them (plans are keyed by channel, outcomes by
announcement), and where the recount after every batch used to mend the totals, now a first
count or a `settle` overlapping another instance's batch can leave them off until a recount.

Totals and deliveries are two writes, and a crash or a failed write between them must not
leave the totals wrong for good (the replayed batch, finding its deliveries written, would see
no transition). So a batch's one `increment_many` adds its changes before its delivery
documents are written, and in the same write marks the announcements it changes
(`unsettled` + 1) and clears the marks of the previous batch, whose deliveries are written by
then. Totals that may disagree with their deliveries are therefore always marked; the ledger's
first write after a start, and its first after a write that failed, recounts every
announcement still marked (after a clean stop: those of the last batch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from siaran_shared.events import (
    AnnouncementAccepted,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
)
from siaran_shared.regions import target_regions
from siaran_shared.store import Collection

#: Delivery statuses in the ledger: pending until an outcome arrives, then the outcome's.
STATUSES = ("delivered", "failed", "pending", "cancelled", "expired", "skipped")

Doc = dict[str, Any]

#: Announcements read per page by `recent`.
_PAGE = 200


def totals_of(by_status: Mapping[Any, int]) -> dict[str, int]:
    """An announcement's totals from its delivery documents counted per status."""
    return {"planned": sum(by_status.values())} | {s: by_status.get(s, 0) for s in STATUSES}


def _counted_in(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """The totals fields a delivery document counts in."""
    status = doc.get("status")
    return ("totals.planned", f"totals.{status}") if status in STATUSES else ("totals.planned",)


class Transitions:
    """The totals changes of one batch, summed per announcement."""

    def __init__(self) -> None:
        self._deltas: dict[str, dict[str, int]] = {}

    def add(self, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
        """A delivery document replaced: it no longer counts as it did, it counts as it does."""
        if before is not None:
            self._count(before, -1)
        self._count(after, 1)

    def _count(self, doc: Mapping[str, Any], sign: int) -> None:
        deltas = self._deltas.setdefault(doc["announcement_id"], {})
        for field in _counted_in(doc):
            deltas[field] = deltas.get(field, 0) + sign

    def deltas(self) -> dict[str, dict[str, int]]:
        """The non-zero changes per announcement."""
        out = {a: {f: n for f, n in d.items() if n} for a, d in self._deltas.items()}
        return {a: d for a, d in out.items() if d}


class Ledger:
    """Deliveries and announcements as the metrics service has seen them."""

    def __init__(self, deliveries: Collection, announcements: Collection) -> None:
        self.deliveries = deliveries
        self.announcements = announcements
        self._settled = False  # announcements left marked by an earlier run are recounted
        self._marked: set[str] = set()  # marked by the last batch, cleared by the next

    async def record_announcements(self, events: Sequence[AnnouncementAccepted]) -> None:
        docs: dict[str, Doc] = {}
        for e in events:
            a = e.announcement
            docs[a.id] = {
                "id": a.id,
                "title": a.title,
                "priority": a.priority.value,
                "accepted_at": e.accepted_at.isoformat(),
                "regions_targeted": sorted(target_regions(a.target)),
            }
        if not docs:
            return
        await self._settle_once()
        existing = await self.announcements.get_many(list(docs))
        # Replays keep what the ledger added (cancelled, totals); a document from before the
        # ledger kept totals gets them now.
        for key, doc in docs.items():
            if key in existing:
                if "totals" not in existing[key]:
                    doc["totals"] = await self._count(key)
                await self.announcements.update(key, doc)
        # New: counted from the deliveries that arrived first, and written with its totals.
        created = {
            key: doc | {"cancelled": False, "totals": await self._count(key)}
            for key, doc in docs.items()
            if key not in existing
        }
        await self.announcements.insert_many(created)

    async def record_cancellations(self, announcement_ids: Sequence[str]) -> None:
        for announcement_id in announcement_ids:
            await self.announcements.update(announcement_id, {"cancelled": True})

    async def record_planned(self, tasks: Sequence[DeliveryPlanned]) -> None:
        publish = {t.delivery_id: t for t in tasks if t.action is DeliveryAction.PUBLISH}
        if not publish:
            return
        existing = await self.deliveries.get_many(list(publish))
        docs: dict[str, Doc] = {}
        transitions = Transitions()
        for key, task in publish.items():
            before = existing.get(key)
            if before is not None and before.get("planned"):
                continue  # a replay: nothing new
            doc = dict(before or {})
            doc.update(
                {
                    "delivery_id": key,
                    "announcement_id": task.announcement_id,
                    "channel_id": task.channel_id,
                    "region": task.region,
                    "province": task.province,
                    "kind": task.kind,
                    "planned": True,
                }
            )
            doc.setdefault("status", "pending")  # an outcome that came first stays
            docs[key] = doc
            transitions.add(before, doc)
        await self._write(docs, transitions)

    async def record_outcomes(
        self, outcomes: Sequence[DeliveryCompleted]
    ) -> list[DeliveryCompleted]:
        """Merge outcomes into the ledger; returns those that changed a delivery's status."""
        by_key = {o.delivery_id: o for o in outcomes}
        if not by_key:
            return []
        existing = await self.deliveries.get_many(list(by_key))
        docs: dict[str, Doc] = {}
        transitions = Transitions()
        changed: list[DeliveryCompleted] = []
        for key, outcome in by_key.items():
            before = existing.get(key)
            doc = dict(
                before
                or {
                    "delivery_id": key,
                    "announcement_id": outcome.announcement_id,
                    "channel_id": outcome.channel_id,
                    "region": outcome.region,
                    "province": outcome.province,
                    "kind": outcome.kind,
                    "planned": False,
                    "status": "pending",
                }
            )
            if outcome.action is DeliveryAction.RETRACT:
                if doc.get("retraction") == outcome.status.value:
                    continue
                doc["retraction"] = outcome.status.value
            else:
                if doc.get("status") == outcome.status.value:
                    continue
                doc.update(
                    {
                        "status": outcome.status.value,
                        "attempts": outcome.attempts,
                        "completed_at": outcome.completed_at.isoformat(),
                        "latency_seconds": outcome.latency_seconds,
                        "response": outcome.response,
                    }
                )
                changed.append(outcome)
            docs[key] = doc
            transitions.add(before, doc)
        await self._write(docs, transitions)
        return changed

    async def _write(self, docs: Mapping[str, Doc], transitions: Transitions) -> None:
        """Add a batch's transitions to the announcements' totals, then write its delivery
        documents; one `increment_many` also marks the announcements changed and clears the
        marks of the previous batch's (see the module docstring)."""
        await self._settle_once()
        if not docs:
            return
        deltas = transitions.deltas()
        changes = {a: d | {"unsettled": 1} for a, d in deltas.items()}
        for a in self._marked:  # written completely by the previous batch
            change = changes.setdefault(a, {})
            change["unsettled"] = change.get("unsettled", 0) - 1
            if not change["unsettled"]:
                del change["unsettled"]  # changed again by this batch: stays marked
        try:
            existed = await self.announcements.increment_many(changes)
            await self.deliveries.put_many(docs)
        except BaseException:
            self._settled = False  # the next write recounts what this one left marked
            raise
        self._marked = existed & deltas.keys()

    async def _settle_once(self) -> None:
        if not self._settled:
            await self.settle()
            self._settled = True

    async def settle(self) -> int:
        """Recount the totals of every announcement still marked by a batch (the last ones
        before a stop, or a crash or failed write in between); how many there were."""
        marked = await self.announcements.find({"unsettled": {"$gt": 0}})
        for doc in marked:
            totals = await self._count(doc["id"])
            await self.announcements.update(doc["id"], {"totals": totals, "unsettled": 0})
        self._marked = set()
        return len(marked)

    async def _count(self, announcement_id: str) -> dict[str, int]:
        where = {"announcement_id": announcement_id}
        return totals_of(await self.deliveries.count_by("status", where))

    async def recent(
        self, since: str, limit: int, visible: Callable[[Doc], bool] = lambda _: True
    ) -> list[Doc]:
        """The newest announcements accepted at or after `since` that are `visible`, at
        most `limit`; read in pages, so a reader who sees few still gets up to `limit`."""
        seen: set[str] = set()
        found: list[Doc] = []
        until: str | None = None
        while len(found) < limit:
            when: dict[str, str] = {"$gte": since} | ({"$lte": until} if until else {})
            page = await self.announcements.find(
                {"accepted_at": when}, order_by="accepted_at", descending=True, limit=_PAGE
            )
            fresh = [doc for doc in page if doc["id"] not in seen]
            seen.update(doc["id"] for doc in fresh)
            found.extend(doc for doc in fresh if visible(doc))
            if len(page) < _PAGE or not fresh:
                break
            until = page[-1]["accepted_at"]  # inclusive: ties at the boundary are not lost
        return found[:limit]

    async def pending(self) -> int:
        """Planned deliveries with no final outcome yet, over the whole ledger."""
        return await self.deliveries.count({"status": "pending"})
