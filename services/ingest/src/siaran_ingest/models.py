"""What ingest's HTTP API answers and the small bodies it reads, as typed models (the
announcement itself is schema.AnnouncementIn)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer
from siaran_shared.events import Announcement

from siaran_ingest.submissions import Submission

ShownStatus = Literal[
    "draft", "pending_approval", "rejected", "pending", "accepted", "completed", "cancelled"
]


class Accepted(BaseModel):
    """202: the announcement is published for fan-out (or cancelled, or waits for approval);
    201 for a draft, 200 for a rejection."""

    id: str = Field(examples=["kominfo-2026-000123"])
    status: Literal["accepted", "cancelled", "draft", "pending_approval", "rejected"] = Field(
        examples=["accepted"]
    )
    replaces: str | None = Field(
        None, description="CAP Update only: the announcement this one replaces (now cancelled)."
    )
    cancelled: list[str] | None = Field(
        None, description="CAP Cancel only: every referenced announcement now cancelled."
    )
    revision: int | None = Field(
        None,
        description="PUT only: the announcement's revision now (corrections count up).",
    )


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=500, examples=["diganti pengumuman baru"])


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, examples=["data korban belum diverifikasi"])


class HistoryOut(BaseModel):
    at: datetime
    by: str = Field(description="The name of the key that acted.")
    action: str = Field(examples=["approve"])
    reason: str | None = None

    @field_serializer("at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()


class ArchivedAnnouncement(Announcement):
    """The announcement as archived, with its state."""

    status: ShownStatus = Field(
        description="draft: stored, not submitted; pending_approval: waits for another key's "
        "approval; rejected; pending: archived, not yet confirmed published; accepted: "
        "published for fan-out; completed: every delivery of the latest revision is final; "
        "cancelled"
    )
    revision: int = 1
    history: list[HistoryOut] = Field(default_factory=list)
    accepted_at: datetime
    cancelled_at: datetime | None
    submitted_by: str = Field(description="The name of the key that submitted it.")
    replaces: str | None = Field(description="The announcement this one replaces (CAP Update).")

    @field_serializer("accepted_at", "cancelled_at")
    def _iso(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @classmethod
    def of(cls, submission: Submission) -> ArchivedAnnouncement:
        return cls(
            **dict(submission.announcement),
            status="cancelled" if submission.cancelled_at else submission.status.value,
            accepted_at=submission.accepted_at,
            cancelled_at=submission.cancelled_at,
            submitted_by=submission.submitted_by,
            replaces=submission.replaces,
            revision=submission.revision,
            history=[HistoryOut.model_validate(h.model_dump()) for h in submission.history],
        )


class AnnouncementPage(BaseModel):
    """A page of announcements, newest first."""

    items: list[ArchivedAnnouncement]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
