"""The delivery ledger: every planned delivery and every outcome, merged by delivery id,
idempotent under replays and indifferent to arrival order.

Each announcement document also keeps its `totals` (deliveries per status), recounted from
the deliveries after every batch that touched the announcement: recounting instead of
incrementing keeps the totals right under replays and concurrent writers, and lets the list
of recent announcements read one document per announcement instead of all its deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


class Ledger:
    """Deliveries and announcements as the metrics service has seen them."""

    def __init__(self, deliveries: Collection, announcements: Collection) -> None:
        self.deliveries = deliveries
        self.announcements = announcements

    async def record_announcements(self, events: Sequence[AnnouncementAccepted]) -> None:
        docs = {}
        for e in events:
            a = e.announcement
            docs[a.id] = {
                "id": a.id,
                "title": a.title,
                "priority": a.priority.value,
                "accepted_at": e.accepted_at.isoformat(),
                "regions_targeted": sorted(target_regions(a.target)),
                "cancelled": False,
            }
        if not docs:
            return
        existing = await self.announcements.get_many(list(docs))
        for key, doc in docs.items():
            if key in existing:
                doc["cancelled"] = existing[key].get("cancelled", False)
        await self.announcements.put_many(docs)
        # Deliveries may have arrived before their announcement: count them now.
        await self.refresh_totals(docs)

    async def record_cancellations(self, announcement_ids: Sequence[str]) -> None:
        for announcement_id in announcement_ids:
            await self.announcements.update(announcement_id, {"cancelled": True})

    async def record_planned(self, tasks: Sequence[DeliveryPlanned]) -> None:
        publish = {t.delivery_id: t for t in tasks if t.action is DeliveryAction.PUBLISH}
        if not publish:
            return
        existing = await self.deliveries.get_many(list(publish))
        docs: dict[str, dict[str, Any]] = {}
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
        if docs:
            await self.deliveries.put_many(docs)
            await self.refresh_totals(d["announcement_id"] for d in docs.values())

    async def record_outcomes(
        self, outcomes: Sequence[DeliveryCompleted]
    ) -> list[DeliveryCompleted]:
        """Merge outcomes into the ledger; returns those that changed a delivery's status."""
        by_key = {o.delivery_id: o for o in outcomes}
        if not by_key:
            return []
        existing = await self.deliveries.get_many(list(by_key))
        docs: dict[str, dict[str, Any]] = {}
        changed: list[DeliveryCompleted] = []
        for key, outcome in by_key.items():
            doc = existing.get(key) or {
                "delivery_id": key,
                "announcement_id": outcome.announcement_id,
                "channel_id": outcome.channel_id,
                "region": outcome.region,
                "province": outcome.province,
                "kind": outcome.kind,
                "planned": False,
                "status": "pending",
            }
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
        if docs:
            await self.deliveries.put_many(docs)
            await self.refresh_totals(d["announcement_id"] for d in docs.values())
        return changed

    async def refresh_totals(self, announcement_ids: Iterable[str]) -> None:
        """Recount the deliveries per status of these announcements onto their documents."""
        ids = sorted(set(announcement_ids))
        if not ids:
            return
        known = await self.announcements.get_many(ids)
        for announcement_id in ids:
            if announcement_id not in known:
                continue  # counted when the announcement arrives
            totals = {"planned": await self.deliveries.count({"announcement_id": announcement_id})}
            for status in STATUSES:
                totals[status] = await self.deliveries.count(
                    {"announcement_id": announcement_id, "status": status}
                )
            await self.announcements.update(announcement_id, {"totals": totals})

    async def pending(self) -> int:
        """Planned deliveries with no final outcome yet, over the whole ledger."""
        return await self.deliveries.count({"status": "pending"})
