"""What the router planned for each announcement: a replay plans nothing twice, a
cancellation knows whether there is anything to stop, a correction knows the channels of
the first revision and a failure the announcement's fallback. The only place that knows how
plans are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from siaran_shared.events import Announcement, utcnow
from siaran_shared.store import Collection


class PlanState(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class FellBack(BaseModel):
    """A region's fallback: the failed delivery it replaced and the channels it used."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    region: str
    of: str
    channels: tuple[str, ...] = ()


class Plan(BaseModel):
    """One announcement's fan-out: how many deliveries, in which release batches, to which
    channels, at which revision."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    status: PlanState
    planned_at: datetime | None = None
    accepted_at: datetime | None = None
    deliveries: int = 0
    batches: tuple[str, ...] = ()
    revision: int = 1
    #: the latest revision planned (its content renders fallbacks and carries `fallback`)
    announcement: Announcement | None = None
    #: the channels revision 1 planned, in order (corrections go to the same ones)
    channels: tuple[str, ...] = ()
    #: the fallbacks used, at most one per region
    fallbacks: tuple[FellBack, ...] = ()

    def fell_back_in(self, region: str) -> bool:
        return any(f.region == region for f in self.fallbacks)

    def fallback_channels(self) -> dict[str, str]:
        """Channel id -> the failed delivery id its fallback task replaces."""
        return {c: f.of for f in self.fallbacks for c in f.channels}


class Plans:
    """The plans repository over the store's `plans` collection."""

    def __init__(self, plans: Collection) -> None:
        self._plans = plans

    async def get(self, announcement_id: str) -> Plan | None:
        doc = await self._plans.get(announcement_id)
        return None if doc is None else Plan.model_validate(doc)

    async def plan(
        self,
        announcement: Announcement,
        accepted_at: datetime,
        channels: Sequence[str],
        batches: Sequence[str],
    ) -> Plan:
        """Record that an announcement was fanned out (revision 1)."""
        plan = Plan(
            id=announcement.id,
            status=PlanState.PLANNED,
            planned_at=utcnow(),
            accepted_at=accepted_at,
            deliveries=len(channels),
            batches=tuple(batches),
            announcement=announcement,
            channels=tuple(channels),
        )
        await self._plans.put(announcement.id, plan.model_dump(mode="json", exclude_none=True))
        return plan

    async def revise(
        self, announcement: Announcement, revision: int, deliveries: int, batches: Sequence[str]
    ) -> bool:
        """Record that a correction was planned (unless the plan was cancelled meanwhile)."""
        changes = {
            "revision": revision,
            "announcement": announcement.model_dump(mode="json", exclude_none=True),
            "deliveries": deliveries,
            "batches": list(batches),
        }
        where = {"status": PlanState.PLANNED.value}
        return await self._plans.update(announcement.id, changes, where=where)

    async def fell_back(self, plan: Plan, fallback: FellBack) -> None:
        """Record a region's fallback (read, changed, written: the results of an announcement
        are consumed by one consumer, in order)."""
        fallbacks = [f.model_dump(mode="json") for f in (*plan.fallbacks, fallback)]
        await self._plans.update(plan.id, {"fallbacks": fallbacks})

    async def cancel(self, announcement_id: str) -> None:
        """Mark a plan cancelled; an announcement cancelled before it was planned gets a
        cancelled plan, so it is never fanned out."""
        if not await self._plans.update(announcement_id, {"status": PlanState.CANCELLED.value}):
            plan = Plan(id=announcement_id, status=PlanState.CANCELLED)
            await self._plans.put(announcement_id, plan.model_dump(mode="json", exclude_none=True))
