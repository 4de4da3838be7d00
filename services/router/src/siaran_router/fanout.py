"""Fan-out and cancellation, idempotent under replays (plain logic over the store)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    DeliveryPlanned,
    utcnow,
)
from siaran_shared.logging import get_logger
from siaran_shared.store import Collection

from siaran_router.planning import plan_deliveries, plan_retractions
from siaran_router.registry import Registry
from siaran_router.targeting import select_channels

log = get_logger(__name__)
Emit = Callable[[Sequence[DeliveryPlanned]], Awaitable[None]]


class Fanout:
    """Remembers what was planned for each announcement so a replay plans nothing twice
    and a cancellation knows which channels to stop."""

    def __init__(self, registry: Registry, plans: Collection, emit: Emit) -> None:
        self._registry = registry
        self._plans = plans
        self._emit = emit

    async def on_accepted(self, accepted: AnnouncementAccepted) -> int:
        """Plan and emit the deliveries of an announcement; returns how many (0 on replay)."""
        a = accepted.announcement
        seen = await self._plans.get(a.id)
        if seen is not None:
            log.info("fanout_skipped", announcement_id=a.id, status=seen["status"])
            return 0
        tasks = plan_deliveries(accepted, select_channels(a.target, self._registry))
        await self._emit(tasks)
        await self._plans.put(
            a.id,
            {
                "id": a.id,
                "status": "planned",
                "planned_at": utcnow().isoformat(),
                "accepted_at": accepted.accepted_at.isoformat(),
                "tasks": [t.model_dump(mode="json") for t in tasks],
            },
        )
        log.info("fanout_planned", announcement_id=a.id, deliveries=len(tasks))
        return len(tasks)

    async def on_cancelled(self, cancelled: AnnouncementCancelled) -> int:
        """Emit retraction tasks for planned deliveries; remember the cancellation."""
        doc = await self._plans.get(cancelled.announcement_id)
        if doc is None:  # cancelled before it was fanned out: it never will be
            await self._plans.put(
                cancelled.announcement_id,
                {"id": cancelled.announcement_id, "status": "cancelled", "tasks": []},
            )
            return 0
        if doc["status"] == "cancelled":
            return 0
        planned = [DeliveryPlanned.model_validate(t) for t in doc["tasks"]]
        retractions = plan_retractions(planned)
        await self._emit(retractions)
        await self._plans.update(cancelled.announcement_id, {"status": "cancelled"})
        log.info(
            "fanout_cancelled", announcement_id=cancelled.announcement_id, tasks=len(retractions)
        )
        return len(retractions)
