"""Fallback kinds: when a delivery fails permanently, the announcement goes to its region's
channels of the announcement's fallback kinds instead, once per (announcement, region).

The publisher reports `failed` only when a failure is final (4xx other than 408/429,
retries exhausted, circuit open past the expiry), so one outcome is enough to decide. The
fallback tasks are held in the outbox under a key of the region (a replay holds nothing
twice) and then recorded in the plan (a later failure in the region falls back no more).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from siaran_shared.events import (
    DeliveryAction,
    DeliveryCompleted,
    DeliveryStatus,
    utcnow,
)
from siaran_shared.logging import get_logger

from siaran_router.fanout import Render, in_batches
from siaran_router.planning import plan_deliveries, render_texts
from siaran_router.plans import FellBack, Plan, Plans, PlanState
from siaran_router.registry import Listed, Registry
from siaran_router.release import Releaser

log = get_logger(__name__)
#: Stops whatever of an announcement is still held (a cancellation done again).
Stop = Callable[[str], Awaitable[int]]


def falls_back(result: DeliveryCompleted) -> bool:
    """Whether an outcome is a permanent failure of a first-hand publication."""
    return (
        result.status is DeliveryStatus.FAILED
        and result.action is DeliveryAction.PUBLISH
        and result.fallback_of is None
    )


class Fallbacks:
    """Plans fallback deliveries for permanent failures, at most once per region."""

    def __init__(
        self,
        registry: Registry,
        plans: Plans,
        releaser: Releaser,
        stop: Stop,
        *,
        render: Render = render_texts,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._registry = registry
        self._plans = plans
        self._releaser = releaser
        self._stop = stop
        self._render = render
        self._clock = clock

    async def on_results(self, results: Sequence[DeliveryCompleted]) -> int:
        """Fall back for the permanent failures among `results`; returns the tasks planned."""
        failures: dict[str, list[DeliveryCompleted]] = defaultdict(list)
        for result in results:
            if falls_back(result):
                failures[result.announcement_id].append(result)
        planned = 0
        for announcement_id, failed in failures.items():
            plan = await self._plans.get(announcement_id)
            for failure in failed:
                if plan is not None and self._may_fall_back(plan, failure):
                    plan, tasks = await self._fall_back(plan, failure)
                    planned += tasks
        return planned

    def _may_fall_back(self, plan: Plan, failure: DeliveryCompleted) -> bool:
        """Not after a cancellation or the expiry, not twice in a region."""
        a = plan.announcement
        if plan.status is PlanState.CANCELLED or a is None or a.fallback is None:
            return False
        if a.expires_at is not None and a.expires_at <= self._clock():
            return False
        return not plan.fell_back_in(failure.region)

    def _standing_in(self, plan: Plan, region: str, kinds: Sequence[str]) -> list[Listed]:
        """The region's enabled channels of `kinds` the plan did not use yet."""
        used = {*plan.channels, *plan.fallback_channels()}
        found = self._registry.in_regions([region])
        chosen = [c for c in found if c.enabled and c.kind in kinds and c.id not in used]
        return sorted(chosen, key=lambda c: c.id)

    async def _fall_back(self, plan: Plan, failure: DeliveryCompleted) -> tuple[Plan, int]:
        a = plan.announcement
        if a is None or a.fallback is None:  # checked by _may_fall_back
            return plan, 0
        channels = self._standing_in(plan, failure.region, a.fallback.kinds)
        if not channels:
            log.info("fallback_without_channels", announcement_id=a.id, region=failure.region,
                     failed=failure.delivery_id)  # fmt: skip
            return plan, 0
        texts = await asyncio.to_thread(self._render, a, [c.kind for c in channels])
        tasks = plan_deliveries(
            a, plan.accepted_at or failure.accepted_at, channels, texts, revision=plan.revision,
            fallback_of=dict.fromkeys((c.id for c in channels), failure.delivery_id),
        )  # fmt: skip
        # due when the failure was reported: the same key when this outcome is read again
        batches = in_batches(a, tasks, lambda _: failure.completed_at, revision=plan.revision,
                             tag=f"~fallback~{failure.region}")  # fmt: skip
        await self._releaser.hold(batches)
        fallback = FellBack(
            region=failure.region, of=failure.delivery_id, channels=tuple(c.id for c in channels)
        )
        await self._plans.fell_back(plan, fallback)
        now = await self._plans.get(a.id)
        if now is not None and now.status is PlanState.CANCELLED:
            # cancelled meanwhile (by another router instance): stop what was just held
            await self._stop(a.id)
        log.info("fallback_planned", announcement_id=a.id, region=failure.region,
                 failed=failure.delivery_id, deliveries=len(tasks),
                 kinds=sorted({c.kind for c in channels}))  # fmt: skip
        return plan.model_copy(update={"fallbacks": (*plan.fallbacks, fallback)}), len(tasks)
