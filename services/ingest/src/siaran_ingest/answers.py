"""What every door of ingest answers (HTTP, the inbound topic): a refusal carrying the status,
a message and one detail per offending field, or the outcome of a step; and the checks every
submission, edit and correction shares (who sees an announcement, what a key may target)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from siaran_shared.auth import ApiKey
from siaran_shared.http import validation_details

from siaran_ingest.models import Accepted
from siaran_ingest.schema import AnnouncementIn, is_expired
from siaran_ingest.scopes import out_of_scope
from siaran_ingest.submissions import Submission
from siaran_ingest.workflow import NotAllowed, shown_status

_T = TypeVar("_T")
AnswerStatus = Literal["accepted", "cancelled", "draft", "pending_approval", "rejected"]
JSON_TYPE = "application/json"
CAP_TYPE = "application/cap+xml"

_KIND = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
         413: "too_large", 415: "unsupported", 422: "invalid"}  # fmt: skip


class Rejected(Exception):
    """A request refused, with the status and details the contract names."""

    def __init__(self, status: int, message: str, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)

    @property
    def reason(self) -> str:
        """One line for a dead letter: '<kind>: <message> (<field>: <problem>; ...)'."""
        parts = "; ".join(f"{d['field']}: {d['message']}" for d in self.details[:10])
        text = f"{_KIND.get(self.status, 'invalid')}: {self.message}"
        return f"{text} ({parts})" if parts and parts not in self.message else text


@dataclass(frozen=True, slots=True)
class Answer:
    """What a successful submission, step, edit or cancellation answers."""

    id: str
    status: AnswerStatus
    duplicate: bool = False
    replaces: str | None = None
    cancelled: tuple[str, ...] = field(default=())
    revision: int | None = None

    def model(self) -> Accepted:
        """The body: always id and status; replaces/cancelled for CAP updates and cancels,
        revision for edits and corrections."""
        return Accepted(
            id=self.id,
            status=self.status,
            replaces=self.replaces,
            cancelled=list(self.cancelled) if self.cancelled else None,
            revision=self.revision,
        )


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header ('' when absent)."""
    if not content_type:
        return ""
    message = Message()
    message["content-type"] = content_type
    return message.get_content_type()


def answer_status(submission: Submission) -> AnswerStatus:
    """What an answer says: accepted once it is (being) published, completed or not."""
    status = shown_status(submission)
    if status in ("draft", "pending_approval", "rejected", "cancelled"):
        return status  # type: ignore[return-value]
    return "accepted"


def allowed(check: Callable[[], _T]) -> _T:
    """The result of a workflow check, or its refusal as a Rejected."""
    try:
        return check()
    except NotAllowed as exc:
        details = [{"field": exc.field, "message": exc.message}]
        raise Rejected(exc.status, exc.message, details) from None


def visible(key: ApiKey, submission: Submission) -> bool:
    """A key sees announcements whose every target region is within its scope."""
    return not out_of_scope(key.parsed_scope, submission.announcement.target)


def invalid(exc: ValidationError, prefix: str = "invalid announcement") -> Rejected:
    """A 422 with one detail per field path of a validation error."""
    details = validation_details(exc.errors(include_url=False, include_input=False))
    fields = ", ".join(d["field"] for d in details[:5])
    return Rejected(422, f"{prefix}: check {fields}", details)


def check_content(body: AnnouncementIn, key: ApiKey, now: datetime) -> None:
    """Refuse content the key may not send: a target outside its scope (403), an expiry
    already past (422)."""
    outside = out_of_scope(key.parsed_scope, body.target)
    if outside:
        raise Rejected(
            403,
            f"key {key.name!r} ({key.scope}) may not target: {', '.join(outside)}",
            [{"field": "target", "message": f"out of scope: {r}"} for r in outside],
        )
    if is_expired(body.expires_at, now):
        raise Rejected(
            422,
            "expires_at is in the past",
            [{"field": "expires_at", "message": "must be in the future"}],
        )
