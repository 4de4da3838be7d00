"""Completions as metrics produced them: one record per (announcement, revision), created
once, so a restart or a replay never produces a second; each carries its event until it is
published, and its callback's durable retry schedule. The repository is the only place
here that speaks the store's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_serializer
from siaran_shared.events import AnnouncementCompleted
from siaran_shared.store import Collection

from siaran_metrics.records import AnnouncementRecord


class CallbackState(StrEnum):
    NONE = "none"  # the announcement named no callback URL
    PENDING = "pending"  # to be sent at `due_at`
    DELIVERED = "delivered"
    FAILED = "failed"  # a final answer, or attempts or age used up


def completion_id(announcement_id: str, revision: int) -> str:
    """The completion's id: its CloudEvent id, its Idempotency-Key, its record's key."""
    return f"{announcement_id}:r{revision}:completed"


def stamp(value: datetime) -> str:
    """A time as stored here: UTC with microseconds, so stored times compare as strings."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class CompletionRecord(BaseModel):
    """One revision's completion: the event, whether it is published, its callback."""

    model_config = ConfigDict(frozen=True)

    id: str
    announcement_id: str
    revision: int
    completed_at: datetime
    #: the AnnouncementCompleted as JSON (the report's keys are no store field names)
    event: str
    published: bool = False
    callback: CallbackState = CallbackState.NONE
    callback_url: str | None = None
    #: the NAME of the signing secret, never its value
    callback_secret: str | None = None
    attempts: int = 0
    due_at: datetime | None = None
    response: str | None = None

    @field_serializer("completed_at", "due_at")
    def _stamp(self, value: datetime | None) -> str | None:
        return stamp(value) if value is not None else None

    @classmethod
    def of(cls, event: AnnouncementCompleted, announcement: AnnouncementRecord) -> CompletionRecord:
        url = announcement.callback_url
        return cls(
            id=completion_id(event.announcement_id, event.revision),
            announcement_id=event.announcement_id,
            revision=event.revision,
            completed_at=event.completed_at,
            event=event.model_dump_json(),
            callback=CallbackState.PENDING if url else CallbackState.NONE,
            callback_url=url,
            callback_secret=announcement.callback_secret if url else None,
            due_at=event.completed_at if url else None,
        )

    @property
    def completed(self) -> AnnouncementCompleted:
        return AnnouncementCompleted.model_validate_json(self.event)


class Completions:
    """Every completion metrics produced, by `completion_id`."""

    def __init__(self, docs: Collection) -> None:
        self.docs = docs

    async def create(self, record: CompletionRecord) -> bool:
        """Store a new completion; False when this revision's exists already."""
        return await self.docs.insert(record.id, record.model_dump(mode="json"))

    async def get(self, completion: str) -> CompletionRecord | None:
        doc = await self.docs.get(completion)
        return CompletionRecord.model_validate(doc) if doc is not None else None

    async def unpublished(self) -> list[CompletionRecord]:
        docs = await self.docs.find({"published": False}, order_by="completed_at", limit=500)
        return [CompletionRecord.model_validate(doc) for doc in docs]

    async def published(self, records: Iterable[CompletionRecord]) -> None:
        for record in records:
            await self.docs.update(record.id, {"published": True})

    async def callbacks_due(self, now: datetime, limit: int = 50) -> list[CompletionRecord]:
        """Pending callbacks due by `now`, the longest waiting first."""
        docs = await self.docs.find(
            {"callback": CallbackState.PENDING.value, "due_at": {"$lte": stamp(now)}},
            order_by="due_at",
            limit=limit,
        )
        return [CompletionRecord.model_validate(doc) for doc in docs]

    async def claim(self, record: CompletionRecord, until: datetime) -> bool:
        """Take a due callback for sending, by moving its due time to `until` (when it is due
        again if this sender dies); False when another took it first."""
        pending = CallbackState.PENDING.value
        due = stamp(record.due_at) if record.due_at is not None else None
        return await self.docs.update(
            record.id, {"due_at": stamp(until)}, where={"callback": pending, "due_at": due}
        )

    async def callback_tried(
        self, record: CompletionRecord, state: CallbackState, response: str, due: datetime | None
    ) -> None:
        """One more attempt, and what it came to: `state`, next due at `due`."""
        changes = {
            "callback": state.value,
            "attempts": record.attempts + 1,
            "response": response[:300],
            "due_at": stamp(due) if due is not None else None,
        }
        await self.docs.update(record.id, changes, where={"callback": CallbackState.PENDING.value})
