"""When an announcement's latest revision is complete, and saying so once.

A revision completes when every delivery has a final outcome and the last of them was
released (`completed`, or `expired` when some expired; `completed` with none `grace` after
the release, when no channel matched), when the announcement is cancelled and its pending
deliveries have their outcomes (`cancelled`), or, for deliveries that never got one, `grace`
after the cancellation or the expiry (or the correction, for deliveries it replaced whose
own plan never came). The completion is created once per revision in the
store before it is published (`Completions.create`), so a restart or a replay never produces
a second; one that a crash or a broker error left unpublished is published by `publish`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

from siaran_shared.events import AnnouncementCompleted, CompletionStatus, utcnow
from siaran_shared.logging import get_logger

from siaran_metrics.completions import CompletionRecord, Completions
from siaran_metrics.ledger import Ledger
from siaran_metrics.records import AnnouncementRecord, Totals
from siaran_metrics.reports import Tally, announcement_report

log = get_logger(__name__)

#: Produces completion events (to siaran.announcements.v1, keyed by announcement id).
Announce = Callable[[Sequence[CompletionRecord]], Awaitable[None]]
#: The longest a sweep leaves alone an announcement it found not complete, when no time it
#: depends on (its release, a grace's end) comes sooner.
SWEEP_RECHECK = timedelta(seconds=60)


def due_status(
    record: AnnouncementRecord, totals: Totals, now: datetime, grace: timedelta, stale: int = 0
) -> CompletionStatus | None:
    """What the announcement's latest revision completes as by `now`; None while it does not.
    `stale`: pending deliveries that a correction replaced more than `grace` ago and whose
    own plan never came (their channel was removed since): they wait no longer."""
    if not record.awaiting_completion:
        return None
    final = totals.pending == stale
    if record.cancelled:
        since = record.cancelled_at or now
        return CompletionStatus.CANCELLED if final or now >= since + grace else None
    released = record.release_by or record.accepted_at or now
    if final and totals.planned and now >= released:
        return CompletionStatus.EXPIRED if totals.expired else CompletionStatus.COMPLETED
    if final and not totals.planned and now >= released + grace:
        return CompletionStatus.COMPLETED  # released, and no channel matched its target
    if record.expires_at is not None and now >= record.expires_at + grace:
        return CompletionStatus.EXPIRED
    return None


class Completer:
    """Produces each revision's completion once, from the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        completions: Completions,
        announce: Announce,
        grace: timedelta,
        fallback_wait: timedelta = timedelta(0),
    ) -> None:
        self._ledger = ledger
        self.completions = completions
        self._announce = announce
        self._grace = grace
        self._fallback_wait = fallback_wait
        #: announcement id -> until when a sweep need not look at it again (no event came
        #: and no time its completion depends on passed); batches always look
        self._quiet_until: dict[str, datetime] = {}

    async def check(self, announcement_ids: Iterable[str], now: datetime | None = None) -> int:
        """Complete those of these announcements whose latest revision is complete, and
        publish what is unpublished; how many completed now."""
        now = now or utcnow()
        records = await self._ledger.announcements.get_many(sorted(set(announcement_ids)))
        created = 0
        for record in records.values():
            created += await self._complete(record, now)
        if created:
            try:
                await self.publish()
            except Exception:  # kept in the store: the next round publishes it
                log.exception("completion_publish_failed")
        return created

    async def sweep(self, now: datetime | None = None) -> int:
        """Complete the announcements released, or cancelled or expired more than the grace
        ago, that no batch completed (no outcome came after the release, a fallback was
        waited for, or some outcomes never came); how many."""
        now = now or utcnow()
        overdue = await self._ledger.announcements.overdue(now, now - self._grace)
        # Those found not complete at the last look, with no event since (a batch would have
        # looked again) and no time their completion depends on passed, are not read again:
        # released announcements that wait for a grace to end or for late outcomes would
        # otherwise be read and judged every round (thousands per second after a burst of
        # announcements that matched no channel).
        # Only overdue ones are remembered: the memory stays as small as the query's answer.
        quiet = {a: self._quiet_until[a] for a in overdue if a in self._quiet_until}
        self._quiet_until = quiet
        return await self.check([a for a in overdue if quiet.get(a, now) <= now], now)

    async def publish(self) -> int:
        """Publish the completions not published yet; how many."""
        waiting = await self.completions.unpublished()
        if waiting:
            await self._announce(waiting)
            await self.completions.published(waiting)
        return len(waiting)

    async def _complete(self, record: AnnouncementRecord, now: datetime) -> bool:
        ledger = self._ledger
        totals = record.totals or await ledger.deliveries.count(record.id)
        stale = 0
        if totals.pending and record.revised_at and now >= record.revised_at + self._grace:
            stale = await ledger.deliveries.superseded(record.id)
        status = due_status(record, totals, now, self._grace, stale)
        if status is None:
            self._quiet_until[record.id] = self._next_look(record, now)
            return False
        self._quiet_until.pop(record.id, None)
        deliveries = await ledger.deliveries.tally(record.id)
        if status is not CompletionStatus.CANCELLED and self._more_to_come(record, deliveries, now):
            return False
        report = announcement_report(record.id, record, deliveries)
        event = AnnouncementCompleted(
            announcement_id=record.id,
            revision=record.revision,
            status=status,
            completed_at=now,
            report=report.model_dump(mode="json"),
        )
        created = await self.completions.create(CompletionRecord.of(event, record))
        await ledger.announcements.completed(record.id, record.revision)
        if created:
            log.info("announcement_completed", announcement_id=record.id,
                     revision=record.revision, status=status.value)  # fmt: skip
        return created

    def _next_look(self, record: AnnouncementRecord, now: datetime) -> datetime:
        """The first of the times `due_status` and the stale count compare `now` with that
        is still to come, at most SWEEP_RECHECK away: until then only an event (which a
        batch checks) can complete the announcement."""
        grace = self._grace
        released = record.release_by or record.accepted_at
        ends = (record.cancelled_at, record.expires_at, record.revised_at, released)
        times = [released, *(t + grace for t in ends if t is not None)]
        return min([now + SWEEP_RECHECK, *(t for t in times if t is not None and t > now)])

    def _more_to_come(self, record: AnnouncementRecord, deliveries: Tally, now: datetime) -> bool:
        """Whether plans may still come that this completion would miss: a correction's
        (none arrived yet), or a fallback's after a permanent failure that has none yet
        (the router plans it when it reads the failure, as metrics does). With no delivery
        at all, `due_status` has waited its grace after the release already: no channel
        matched, and nothing is to come (it waited for ever before, swept every round)."""
        if deliveries.revisions and record.revision not in deliveries.revisions:
            return True
        if not record.fallback:
            return False
        failed = deliveries.last_failure_without_fallback()
        return failed is not None and now < failed + self._fallback_wait
