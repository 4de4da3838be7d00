"""The announcement archive's records and the repository that keeps them: the only place in
ingest that speaks the store's language.

A submission is archived `pending` before it is produced and becomes `accepted` once the
announcements topic confirmed it; a cancellation stamps it. Documents keep the shape they
always had (ISO-8601 times), so an archive written by an earlier version reads the same.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer
from siaran_shared.auth import Scope
from siaran_shared.events import Announcement
from siaran_shared.store import Collection, GroupWriter

from siaran_ingest.scopes import reach


class SubmissionState(StrEnum):
    """Where a submission is on its way to the announcements topic."""

    DRAFT = "draft"  # stored, nothing fans out
    PENDING_APPROVAL = "pending_approval"  # submitted by a draft-only key: waits for approval
    REJECTED = "rejected"  # refused by an approver; final
    PENDING = "pending"  # archived; not (yet) confirmed produced
    ACCEPTED = "accepted"  # produced and confirmed: the router fans it out
    COMPLETED = "completed"  # accepted, and every delivery of its latest revision is final


class HistoryEntry(BaseModel):
    """One step of an announcement's editorial history."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str  # key name
    action: str  # draft | submit | publish | approve | reject | edit | correct | complete
    reason: str | None = None

    @field_serializer("at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()


class Submission(BaseModel):
    """One archived announcement, as submitted, with its publication state."""

    model_config = ConfigDict(frozen=True)

    id: str
    hash: str
    status: SubmissionState
    announcement: Announcement
    submitted_by: str
    scope: str
    accepted_at: datetime
    replaces: str | None = None
    cancelled_at: datetime | None = None
    revision: int = 1
    history: tuple[HistoryEntry, ...] = ()
    submitted_key: str | None = None  # the id of the key that submitted (two-person rule)

    @field_serializer("accepted_at", "cancelled_at")
    def _iso(self, value: datetime | None) -> str | None:
        # isoformat, as the archive always stored them: times compare as strings in queries
        return value.isoformat() if value is not None else None

    @property
    def pending(self) -> bool:
        return self.status is SubmissionState.PENDING

    def accepted(self) -> Submission:
        """This submission, confirmed produced."""
        return self.model_copy(update={"status": SubmissionState.ACCEPTED})

    def document(self) -> dict[str, Any]:
        """The stored form: the record, and the plain fields the listing queries (the newest
        first by `order_key`; scoped keys by the province or regency the target lies in)."""
        province, regency = reach(self.announcement.target)
        return self.model_dump(mode="json") | {
            "order_key": order_key(self.accepted_at, self.id),
            "reach_province": province,
            "reach_regency": regency,
        }


def order_key(accepted_at: datetime, announcement_id: str) -> str:
    """What the listing sorts by, newest first: the time it was archived or published, then
    the id (both strings compare as they sort)."""
    return f"{accepted_at.astimezone(UTC).isoformat()}|{announcement_id}"


class ArchiveWriteFailed(RuntimeError):
    """The archive could not be written."""


class Submissions:
    """The repository of archived submissions: transitions by name, records back."""

    def __init__(self, docs: Collection) -> None:
        self._docs = docs
        self._marks = GroupWriter(docs)

    async def get(self, announcement_id: str) -> Submission | None:
        """The archived submission of an announcement, if any."""
        doc = await self._docs.get(announcement_id)
        return Submission.model_validate(doc) if doc is not None else None

    async def begin(self, submission: Submission) -> bool:
        """Archive a new submission (pending); False when its id is archived already. Grouped
        with the other submissions arriving meanwhile into one store write."""
        return await self._marks.insert(submission.id, submission.document())

    async def forget(self, announcement_id: str) -> None:
        """Remove a submission whose first publication failed: a retry starts afresh."""
        await self._docs.delete(announcement_id)

    async def accept(self, submission: Submission) -> Submission:
        """Record that the submission was produced; grouped with the others finishing
        meanwhile into one store write (one commit), as an upsert of the record in hand."""
        accepted = submission.accepted()
        try:
            await self._marks.put(accepted.id, accepted.document())
        except Exception as exc:
            raise ArchiveWriteFailed(f"archive write failed: {exc}") from exc
        return accepted

    async def cancel(self, submission: Submission, at: datetime) -> Submission:
        """Stamp the submission cancelled (kept as it is when it already was)."""
        if submission.cancelled_at is not None:
            return submission
        await self._docs.update(submission.id, {"cancelled_at": at.isoformat()})
        return submission.model_copy(update={"cancelled_at": at})

    async def move(self, before: Submission, after: Submission) -> bool:
        """Replace a record if it still has the status and content it had when read and is
        not cancelled (compare and set); False when another request changed it first."""
        changes = {k: v for k, v in after.document().items() if k != "id"}
        unchanged = {"status": before.status.value, "hash": before.hash, "cancelled_at": None}
        return await self._docs.update(before.id, changes, where=unchanged)

    async def newest(
        self, *, scope: Scope, status: str | None, before: str | None, limit: int
    ) -> list[Submission]:
        """Up to `limit` announcements whose target lies inside `scope`, newest first, older
        than the `order_key` `before`, in a shown status (cancelled is stamped, not a status)."""
        where: dict[str, Any] = {}
        if status == "cancelled":
            where["cancelled_at"] = {"$ne": None}
        elif status is not None:
            where |= {"status": status, "cancelled_at": None}
        if scope.kind == "province":
            where["reach_province"] = scope.region
        elif scope.kind == "regency":
            where["reach_regency"] = scope.region
        if before is not None:
            where["order_key"] = {"$lt": before}
        docs = await self._docs.find(where, order_by="order_key", descending=True, limit=limit)
        return [Submission.model_validate(doc) for doc in docs]

    async def upgrade(self, batch: int = 500) -> int:
        """Give records archived before the listing existed its fields; how many."""
        done = 0
        while docs := await self._docs.find({"order_key": None}, limit=batch):
            records = [Submission.model_validate(doc) for doc in docs]
            await self._docs.put_many({r.id: r.document() for r in records})
            done += len(records)
        return done

    async def pending_since_before(self, cutoff: datetime) -> list[Submission]:
        """Submissions still pending that were archived before `cutoff`."""
        docs = await self._docs.find(
            {"status": SubmissionState.PENDING.value, "accepted_at": {"$lt": cutoff.isoformat()}}
        )
        return [Submission.model_validate(doc) for doc in docs]


def fail(future: asyncio.Future[None], failure: BaseException) -> None:
    """Fail a future, marked retrieved: no "never retrieved" warning when nobody waited."""
    future.set_exception(failure)
    future.exception()
