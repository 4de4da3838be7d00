"""Fan-out, corrections and cancellation, idempotent under replays (plain logic over the
repositories)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)
from siaran_shared.logging import get_logger
from siaran_shared.metric_names import FANOUT_CHANNELS
from siaran_shared.release_times import release_at
from siaran_shared.telemetry import histogram

from siaran_router.outbox import Batch, BatchState
from siaran_router.planning import (
    Rendered,
    delivery_id,
    plan_deliveries,
    plan_retractions,
    render_texts,
)
from siaran_router.plans import Plan, Plans, PlanState
from siaran_router.registry import Listed, Registry
from siaran_router.release import Releaser, Stopped, outcome
from siaran_router.targeting import select_channels

log = get_logger(__name__)
#: Channels planned and held at a time in a fan-out (the tasks of one part in memory).
PLAN_CHUNK = 5000
Emit = Callable[[Sequence[DeliveryPlanned], Sequence[DeliveryCompleted]], Awaitable[None]]
#: Title and text per channel kind for an announcement (CPU-bound: run in a worker thread).
Render = Callable[[Announcement, Sequence[str]], dict[str, Rendered]]


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
        # planned and held PLAN_CHUNK channels at a time: a registry of any size costs the
        # memory of one part, and the first part is released while the next is planned
        keys: list[str] = []
        first: datetime | None = None
        for part, start in enumerate(range(0, len(channels), PLAN_CHUNK)):
            chunk = channels[start : start + PLAN_CHUNK]
            tasks = plan_deliveries(
                a, accepted.accepted_at, chunk, texts, lambda c: release(c.region)
            )
            batches = in_batches(a, tasks, lambda t: release(t.region), part=part)
            await self._releaser.hold(batches)
            keys += [b.key for b in batches]
            earliest = batches[0].due
            first = earliest if first is None else min(first, earliest)
        await self._plans.plan(a, accepted.accepted_at, [c.id for c in channels], keys)
        self._fanout_channels.record(len(channels), {"priority": a.priority.value})
        log.info(
            "fanout_planned",
            announcement_id=a.id,
            deliveries=len(channels),
            batches=len(keys),
            first_release=first.isoformat() if first else None,
            priority=a.priority.value,
        )
        return len(channels)

    async def on_updated(self, update: AnnouncementUpdated) -> int:
        """Plan a correction: revision N to the channels revision 1 planned (and the
        fallbacks used since), with the same delivery ids. Held tasks of older revisions are
        superseded, never released; held ones keep their release time, the others are due at
        once. Returns how many tasks (0 for a replay, an older revision or a cancelled plan)."""
        a, revision = update.announcement, update.revision
        plan = await self._plans.get(a.id)
        if plan is None or plan.status is PlanState.CANCELLED or revision <= plan.revision:
            log.info("correction_skipped", announcement_id=a.id, revision=revision,
                     planned=plan.revision if plan else None,
                     status=plan.status.value if plan else None)  # fmt: skip
            return 0
        # stop first, then hold, then end the old batches: a failure in between is a
        # correction done again (the replacements are held under the same keys)
        stopped = await self._releaser.stop(a.id, below_revision=revision)
        channels = self._still_enabled(plan, stopped)
        texts = await asyncio.to_thread(self._render, a, [c.kind for c in channels])

        def due(task_id: str) -> datetime:
            return stopped.due.get(task_id, update.updated_at)

        tasks = plan_deliveries(
            a, update.accepted_at, channels, texts, lambda c: due(delivery_id(a.id, c.id)),
            revision=revision, fallback_of=plan.fallback_channels(),
        )  # fmt: skip
        batches = in_batches(a, tasks, lambda t: due(t.delivery_id), revision=revision,
                             replaces=lambda t: t.delivery_id not in stopped.due)  # fmt: skip
        await self._releaser.hold(batches)
        why = f"replaced by revision {revision} before release"
        await self._emit([], [outcome(t, DeliveryStatus.SUPERSEDED, why) for t in stopped.never])
        await self._releaser.cancelled(stopped, BatchState.SUPERSEDED)
        await self._plans.revise(a, revision, len(tasks), [b.key for b in batches])
        planned = len({*plan.channels, *plan.fallback_channels()})
        log.info("correction_planned", announcement_id=a.id, revision=revision,
                 deliveries=len(tasks), superseded=len(stopped.never),
                 replaced=len(stopped.maybe), skipped=planned - len(channels))  # fmt: skip
        return len(tasks)

    def _still_enabled(self, plan: Plan, stopped: Stopped) -> list[Listed]:
        """The plan's channels (first revision and fallbacks, and those of the tasks a
        plan from before the router kept its channels still holds) that are still there
        and enabled, as they are configured now."""
        held = [t.channel_id for t in (*stopped.never, *stopped.maybe)]
        ids = dict.fromkeys([*plan.channels, *plan.fallback_channels(), *held])
        found = (self._registry.get(channel_id) for channel_id in ids)
        return [c for c in found if c is not None and c.enabled]

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
        stopped = await self.stop(announcement_id)
        await self._plans.cancel(announcement_id)
        return stopped

    async def stop(self, announcement_id: str) -> int:
        """Stop held deliveries (reported cancelled) and retract released ones; returns
        how many."""
        stopped = await self._releaser.stop(announcement_id)
        never, maybe = stopped.unposted(), stopped.to_retract()
        ended = [outcome(t, DeliveryStatus.CANCELLED, "cancelled before release") for t in never]
        await self._emit(plan_retractions(maybe), ended)
        await self._releaser.cancelled(stopped, BatchState.CANCELLED)
        log.info(
            "fanout_cancelled",
            announcement_id=announcement_id,
            held_cancelled=len(never),
            retractions=len(maybe),
        )
        return len(never) + len(maybe)


def in_batches(
    announcement: Announcement,
    tasks: Sequence[DeliveryPlanned],
    due: Callable[[DeliveryPlanned], datetime],
    *,
    revision: int = 1,
    tag: str = "",
    replaces: Callable[[DeliveryPlanned], bool] = lambda _: False,
    part: int = 0,
) -> list[Batch]:
    """An announcement's tasks grouped into outbox batches by release time, earliest
    first; a batch replaces released tasks when any of its tasks does. `part` tells the
    batches of one part of a large fan-out from those of the others (`PLAN_CHUNK`)."""
    a = announcement
    by_due: dict[datetime, list[DeliveryPlanned]] = defaultdict(list)
    for task in tasks:
        by_due[due(task)].append(task)
    suffix = tag or (f"~r{revision}" if revision > 1 else "")
    suffix += f"~p{part}" if part else ""
    return [
        Batch(a.id, when, a.priority, group, revision=revision, tag=suffix,
              replaces_released=any(replaces(t) for t in group))
        for when, group in sorted(by_due.items())
    ]  # fmt: skip
