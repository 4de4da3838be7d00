"""Fan-out and cancellation, idempotent under replays (plain logic over the repositories)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)
from siaran_shared.logging import get_logger
from siaran_shared.metric_names import FANOUT_CHANNELS
from siaran_shared.telemetry import histogram

from siaran_router.outbox import Batch
from siaran_router.planning import plan_deliveries, plan_retractions, render_texts
from siaran_router.plans import Plans, PlanState
from siaran_router.registry import Registry
from siaran_router.release import Releaser, outcome
from siaran_router.release_times import release_at
from siaran_router.targeting import select_channels

log = get_logger(__name__)
Emit = Callable[[Sequence[DeliveryPlanned], Sequence[DeliveryCompleted]], Awaitable[None]]
#: Texts per channel kind for an announcement (CPU-bound: run in a worker thread).
Render = Callable[[Announcement, Sequence[str]], dict[str, str]]


class Fanout:
    """Remembers what was planned for each announcement so a replay plans nothing twice
    and a cancellation knows which deliveries to stop."""

    def __init__(
        self,
        registry: Registry,
        plans: Plans,
        releaser: Releaser,
        emit: Emit,
        *,
        render: Render = render_texts,
    ) -> None:
        self._render = render
        self._registry = registry
        self._plans = plans
        self._releaser = releaser
        self._emit = emit
        self._fanout_channels = histogram(FANOUT_CHANNELS)

    async def on_accepted(self, accepted: AnnouncementAccepted) -> int:
        """Plan the deliveries of an announcement and hand them to the releaser in batches
        by release time; returns how many (0 on replay)."""
        a = accepted.announcement
        seen = await self._plans.get(a.id)
        if seen is not None:
            log.info("fanout_skipped", announcement_id=a.id, status=seen.status.value)
            return 0
        due: dict[str, datetime] = {}

        def release(region: str) -> datetime:
            when = due.get(region)
            if when is None:
                when = due[region] = release_at(a, accepted.accepted_at, region)
            return when

        channels = select_channels(a.target, self._registry)
        texts = await asyncio.to_thread(self._render, a, [c.kind for c in channels])
        tasks = plan_deliveries(accepted, channels, texts, release)
        by_due: dict[datetime, list[DeliveryPlanned]] = defaultdict(list)
        for task in tasks:
            by_due[release(task.region)].append(task)
        batches = [Batch(a.id, when, a.priority, group) for when, group in sorted(by_due.items())]
        await self._releaser.hold(batches)
        await self._plans.plan(a.id, accepted.accepted_at, len(tasks), [b.key for b in batches])
        self._fanout_channels.record(len(tasks), {"priority": a.priority.value})
        log.info(
            "fanout_planned",
            announcement_id=a.id,
            deliveries=len(tasks),
            batches=len(batches),
            first_release=batches[0].due.isoformat() if batches else None,
            priority=a.priority.value,
        )
        return len(tasks)

    async def on_cancelled(self, cancelled: AnnouncementCancelled) -> int:
        """Stop held deliveries (reported cancelled) and retract released ones."""
        announcement_id = cancelled.announcement_id
        plan = await self._plans.get(announcement_id)
        if plan is None:  # cancelled before it was fanned out: it never will be
            await self._plans.cancel(announcement_id)
            return 0
        if plan.status is PlanState.CANCELLED:
            return 0
        # produce first, then mark: a failure in between is a cancellation done again
        stopped = await self._releaser.stop(announcement_id)
        never, maybe = stopped.never, stopped.maybe
        ended = [outcome(t, DeliveryStatus.CANCELLED, "cancelled before release") for t in never]
        await self._emit(plan_retractions(maybe), ended)
        await self._releaser.cancelled(stopped)
        await self._plans.cancel(announcement_id)
        log.info(
            "fanout_cancelled",
            announcement_id=announcement_id,
            held_cancelled=len(never),
            retractions=len(maybe),
        )
        return len(never) + len(maybe)
