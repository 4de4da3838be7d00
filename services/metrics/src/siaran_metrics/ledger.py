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
  summed per announcement and added in one write (`Announcements.add_to_totals`), which skips
  announcements
  whose document does not exist yet: those deliveries are counted when it is created.
- A replay changes no delivery document, so it adds nothing.

This relies on the ledger's writes coming one batch at a time (the metrics consumer handles
its batches in turn, announcements before plans and outcomes), so that a first count never
overlaps another batch's increments. Two metrics instances writing the same delivery
documents were never safe (each reads a document, then replaces it, so one can undo the
other's change); with MongoDB the increments themselves are atomic (`$inc`), so the totals
lose no update to each other. But with several instances in the consumer group, one
announcement's events may reach several of them (its announcement, plan summaries and
outcomes are keyed by its id, but on three topics the group assigns independently), and where
the recount after every batch used to mend the totals, now a first count or a `settle`
overlapping another instance's batch can leave them off until a recount.

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
from typing import TYPE_CHECKING, TypeVar

from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    DeliveriesPlanned,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)

from siaran_metrics.ledger_store import Announcements, Deliveries
from siaran_metrics.records import (
    AnnouncementRecord,
    DeliveryRecord,
    Planned,
    after_outcome,
    after_plan,
)

if TYPE_CHECKING:  # the logic imports no service machinery
    from siaran_shared.retention import RetentionSettings
    from siaran_shared.store import Store

E = TypeVar("E", Planned, DeliveryCompleted)


class Transitions:
    """The totals changes of one batch, summed per announcement."""

    def __init__(self) -> None:
        self._deltas: dict[str, dict[str, int]] = {}
        self.records: dict[str, DeliveryRecord] = {}

    def apply(
        self,
        existing: Mapping[str, DeliveryRecord],
        key: str,
        transition: Callable[[DeliveryRecord | None, E], DeliveryRecord | None],
        event: E,
    ) -> bool:
        """An event applied to a delivery as this batch left it (events of one delivery in
        one batch apply in turn); whether it changed anything."""
        current = self.records.get(key, existing.get(key))
        after = transition(current, event)
        if after is None:
            return False
        if current is not None:
            self._count(current, -1)
        self._count(after, 1)
        self.records[key] = after
        return True

    def _count(self, record: DeliveryRecord, sign: int) -> None:
        deltas = self._deltas.setdefault(record.announcement_id, {})
        for field in record.counted_in:
            deltas[field] = deltas.get(field, 0) + sign

    def deltas(self) -> dict[str, dict[str, int]]:
        """The non-zero changes per announcement."""
        out = {a: {f: n for f, n in d.items() if n} for a, d in self._deltas.items()}
        return {a: d for a, d in out.items() if d}


def _after_retraction(
    before: DeliveryRecord | None, outcome: DeliveryCompleted
) -> DeliveryRecord | None:
    record = before or DeliveryRecord.first_seen(outcome)
    return None if record.retraction == outcome.status else record.retracted(outcome.status)


def ledger_on(store: Store, retention: RetentionSettings) -> Ledger:
    """The ledger over a service store's `deliveries` and `announcements`, kept as long as
    SIARAN_RETENTION_LEDGER_DAYS says."""
    deliveries = store.collection(
        "deliveries",
        indexes=("announcement_id", "status"),
        expiry=retention.keep("ledger", "completed_at"),
    )
    announcements = store.collection(
        "announcements",
        indexes=("accepted_at", "awaiting"),
        expiry=retention.keep("ledger", "accepted_at"),
    )
    return Ledger(Deliveries(deliveries), Announcements(announcements))


class Ledger:
    """Deliveries and announcements as the metrics service has seen them."""

    def __init__(self, deliveries: Deliveries, announcements: Announcements) -> None:
        self.deliveries = deliveries
        self.announcements = announcements
        self._settled = False  # announcements left marked by an earlier run are recounted
        self._marked: set[str] = set()  # marked by the last batch, cleared by the next

    async def record_announcements(
        self, events: Sequence[AnnouncementAccepted | AnnouncementUpdated]
    ) -> None:
        """Announcements accepted or corrected: each at the latest revision seen."""
        records: dict[str, AnnouncementRecord] = {}
        for event in sorted(events, key=lambda e: e.revision):
            records[event.announcement.id] = AnnouncementRecord.of(event)
        if not records:
            return
        await self._settle_once()
        existing = await self.announcements.get_many(list(records))
        # Replays keep what the ledger added (cancelled, totals); a record from before the
        # ledger kept totals gets them now; a replayed older revision changes nothing.
        for key, record in records.items():
            known = existing.get(key)
            if known is not None and known.revision <= record.revision:
                totals = await self.deliveries.count(key) if known.totals is None else None
                await self.announcements.describe(
                    record, totals, reopen=record.revision > known.revision
                )
        # New: counted from the deliveries that arrived first, and written with its totals.
        await self.announcements.create(
            [
                record.model_copy(update={"totals": await self.deliveries.count(key)})
                for key, record in records.items()
                if key not in existing
            ]
        )

    async def record_cancellations(self, events: Sequence[AnnouncementCancelled]) -> None:
        for event in events:
            await self.announcements.cancel(event.announcement_id, event.cancelled_at)

    async def record_plans(self, summaries: Sequence[DeliveriesPlanned]) -> None:
        """Merge plan summaries (one per released chunk of an announcement) into the ledger."""
        await self._plan([entry for summary in summaries for entry in summary.entries()])

    async def record_planned(self, tasks: Sequence[DeliveryPlanned]) -> None:
        """Merge planned tasks into the ledger (retraction tasks plan nothing)."""
        await self._plan([t for t in tasks if t.action is DeliveryAction.PUBLISH])

    async def _plan(self, planned: Sequence[Planned]) -> None:
        transitions = Transitions()
        existing = await self.deliveries.get_many(list({p.delivery_id for p in planned}))
        for entry in planned:
            transitions.apply(existing, entry.delivery_id, after_plan, entry)
        await self._write(transitions)

    async def record_outcomes(
        self, outcomes: Sequence[DeliveryCompleted]
    ) -> list[DeliveryCompleted]:
        """Merge outcomes into the ledger; returns those that changed a delivery's status."""
        if not outcomes:
            return []
        existing = await self.deliveries.get_many(list({o.delivery_id for o in outcomes}))
        transitions = Transitions()
        changed: list[DeliveryCompleted] = []
        for outcome in outcomes:
            if outcome.action is DeliveryAction.RETRACT:
                transitions.apply(existing, outcome.delivery_id, _after_retraction, outcome)
            elif (
                transitions.apply(existing, outcome.delivery_id, after_outcome, outcome)
                and outcome.status is not DeliveryStatus.SUPERSEDED  # not an outcome yet
            ):
                changed.append(outcome)
        await self._write(transitions)
        return changed

    async def _write(self, transitions: Transitions) -> None:
        """Add a batch's transitions to the announcements' totals, then write its delivery
        records; the one write of the totals also marks the announcements changed and
        clears the marks of the previous batch's (see the module docstring)."""
        await self._settle_once()
        if not transitions.records:
            return
        deltas = transitions.deltas()
        try:
            existed = await self.announcements.add_to_totals(deltas, settled=self._marked)
            await self.deliveries.write(transitions.records.values())
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
        marked = await self.announcements.unsettled()
        for announcement_id in marked:
            await self.announcements.settle(
                announcement_id, await self.deliveries.count(announcement_id)
            )
        self._marked = set()
        return len(marked)
