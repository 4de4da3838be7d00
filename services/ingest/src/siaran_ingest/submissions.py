"""Accepting announcements: idempotency by id and content, the archive, cancellation.

Plain logic over the store and a publish function, so it is tested without a broker.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from siaran_shared.auth import ApiKey
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    Event,
    utcnow,
)
from siaran_shared.store import Collection

Publish = Callable[[Event], Awaitable[None]]
Outcome = Literal["accepted", "duplicate", "conflict"]

#: A submission archived but not confirmed published after this long is published again.
STALE_PENDING = timedelta(seconds=30)


def content_hash(announcement: Announcement) -> str:
    """Hash of the announcement's content, the test for "same id, same content"."""
    data = announcement.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def new_id(now: datetime) -> str:
    """A server-made announcement id."""
    return f"siaran-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class Submission:
    outcome: Outcome
    record: dict[str, Any]


class Archive:
    """Announcements as accepted, keyed by id, with their publication state."""

    def __init__(self, announcements: Collection, publish: Publish) -> None:
        self._docs = announcements
        self._publish = publish

    async def submit(
        self, announcement: Announcement, key: ApiKey, *, replaces: str | None = None
    ) -> Submission:
        """Archive and publish once; a repeat with the same content changes nothing."""
        now = utcnow()
        digest = content_hash(announcement)
        record = {
            "id": announcement.id,
            "hash": digest,
            "status": "pending",
            "announcement": announcement.model_dump(mode="json"),
            "submitted_by": key.name,
            "scope": key.scope,
            "accepted_at": now.isoformat(),
            "replaces": replaces,
            "cancelled_at": None,
        }
        if not await self._docs.insert(announcement.id, record):
            existing = await self._docs.get(announcement.id)
            if existing is None:  # deleted in between: treat as new
                return await self.submit(announcement, key, replaces=replaces)
            if existing["hash"] != digest:
                return Submission("conflict", existing)
            if existing["status"] == "pending" and _older_than(existing, now, STALE_PENDING):
                await self._confirm(existing)  # the first attempt died before publishing
            return Submission("duplicate", existing)
        await self._confirm(record)
        return Submission("accepted", record)

    async def _confirm(self, record: dict[str, Any]) -> None:
        event = AnnouncementAccepted(
            announcement=Announcement.model_validate(record["announcement"]),
            accepted_at=datetime.fromisoformat(record["accepted_at"]),
            submitted_by=record["submitted_by"],
            replaces=record.get("replaces"),
        )
        await self._publish(event)
        await self._docs.update(record["id"], {"status": "accepted"})
        record["status"] = "accepted"

    async def get(self, announcement_id: str) -> dict[str, Any] | None:
        """The archived record of an announcement."""
        return await self._docs.get(announcement_id)

    async def cancel(
        self, announcement_id: str, key: ApiKey, reason: str | None = None
    ) -> dict[str, Any] | None:
        """Publish AnnouncementCancelled (again, harmlessly, on a repeat); None if unknown."""
        record = await self._docs.get(announcement_id)
        if record is None:
            return None
        cancelled_at = record.get("cancelled_at") or utcnow().isoformat()
        await self._publish(
            AnnouncementCancelled(
                announcement_id=announcement_id,
                cancelled_at=datetime.fromisoformat(cancelled_at),
                cancelled_by=key.name,
                reason=reason,
            )
        )
        if not record.get("cancelled_at"):
            await self._docs.update(announcement_id, {"cancelled_at": cancelled_at})
            record["cancelled_at"] = cancelled_at
        return record


def _older_than(record: dict[str, Any], now: datetime, age: timedelta) -> bool:
    return now - datetime.fromisoformat(record["accepted_at"]) > age
