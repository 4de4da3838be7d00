"""Never twice: each delivery is claimed in the store before it is sent and its outcome
recorded after. A claim whose lease expired (its instance crashed) may be taken again;
the same Idempotency-Key then lets a well-behaved receiver drop a repeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from siaran_shared.events import DeliveryCompleted
from siaran_shared.store import Collection

ClaimResult = Literal["claimed", "done", "busy"]


@dataclass(frozen=True, slots=True)
class Claim:
    result: ClaimResult
    doc: dict[str, Any] | None = None


class Claims:
    """Delivery states keyed by delivery id (retractions by their own key)."""

    def __init__(self, docs: Collection, owner: str, lease: timedelta) -> None:
        self._docs = docs
        self._owner = owner
        self._lease = lease

    async def claim(self, key: str, now: datetime) -> Claim:
        """Take the delivery for sending, unless it is finished or leased by another."""
        lease_until = (now + self._lease).isoformat()
        fresh = {"state": "claimed", "owner": self._owner, "lease_until": lease_until}
        if await self._docs.insert(key, {**fresh, "attempts": 0}):
            return Claim("claimed")
        doc = await self._docs.get(key)
        if doc is None:
            return await self.claim(key, now)
        if doc["state"] in ("done", "cancelled"):
            return Claim("done", doc)
        taken = await self._docs.update(
            key,
            fresh,
            where={
                "state": {"$in": ["claimed", "waiting"]},
                "$or": [
                    {"owner": self._owner},
                    {"lease_until": {"$lt": now.isoformat()}},
                ],
            },
        )
        return Claim("claimed", doc) if taken else Claim("busy", doc)

    async def attempted(self, key: str, attempts: int) -> None:
        await self._docs.update(key, {"attempts": attempts})

    async def finish(self, key: str, outcome: DeliveryCompleted) -> None:
        """Record the terminal outcome; later copies of the task are skipped."""
        await self._docs.update(
            key,
            {"state": "done", "outcome": outcome.model_dump(mode="json"), "lease_until": None},
        )

    async def cancel_pending(self, key: str, now: datetime) -> bool:
        """Mark a not-yet-sent delivery cancelled; False if it was already finished."""
        if await self._docs.insert(key, {"state": "cancelled", "at": now.isoformat()}):
            return True
        return await self._docs.update(
            key,
            {"state": "cancelled", "at": now.isoformat()},
            where={"state": {"$in": ["claimed", "waiting"]}},
        )

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self._docs.get(key)
