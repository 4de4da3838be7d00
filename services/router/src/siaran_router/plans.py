"""What the router planned for each announcement: a replay plans nothing twice, and a
cancellation knows whether there is anything to stop. The only place that knows how
plans are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from siaran_shared.events import utcnow
from siaran_shared.store import Collection


class PlanState(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class Plan(BaseModel):
    """One announcement's fan-out: how many deliveries, in which release batches."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    status: PlanState
    planned_at: datetime | None = None
    accepted_at: datetime | None = None
    deliveries: int = 0
    batches: tuple[str, ...] = ()


class Plans:
    """The plans repository over the store's `plans` collection."""

    def __init__(self, plans: Collection) -> None:
        self._plans = plans

    async def get(self, announcement_id: str) -> Plan | None:
        doc = await self._plans.get(announcement_id)
        return None if doc is None else Plan.model_validate(doc)

    async def plan(
        self, announcement_id: str, accepted_at: datetime, deliveries: int, batches: Sequence[str]
    ) -> Plan:
        """Record that an announcement was fanned out."""
        plan = Plan(
            id=announcement_id,
            status=PlanState.PLANNED,
            planned_at=utcnow(),
            accepted_at=accepted_at,
            deliveries=deliveries,
            batches=tuple(batches),
        )
        await self._plans.put(announcement_id, plan.model_dump(mode="json", exclude_none=True))
        return plan

    async def cancel(self, announcement_id: str) -> None:
        """Mark a plan cancelled; an announcement cancelled before it was planned gets a
        cancelled plan, so it is never fanned out."""
        if not await self._plans.update(announcement_id, {"status": PlanState.CANCELLED.value}):
            plan = Plan(id=announcement_id, status=PlanState.CANCELLED)
            await self._plans.put(announcement_id, plan.model_dump(mode="json", exclude_none=True))
