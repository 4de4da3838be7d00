"""What ingest does with a submission, whichever door it came through (HTTP or Kafka):
decode (JSON or CAP 1.2), validate, check the key's scope, archive and publish once, cancel.

Plain logic over the archive: no web framework, no broker. Every refusal is a
:class:`Rejected` carrying the HTTP status, a message and one detail per offending field; the
HTTP layer answers it as the contract's error body, the inbound consumer dead-letters with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import ValidationError
from siaran_shared.auth import ApiKey
from siaran_shared.events import utcnow
from siaran_shared.metric_names import ANNOUNCEMENTS
from siaran_shared.regions import regions
from siaran_shared.telemetry import counter

from siaran_ingest.answers import (
    CAP_TYPE,
    JSON_TYPE,
    Answer,
    Rejected,
    allowed,
    answer_status,
    check_content,
    invalid,
    media_type,
    visible,
)
from siaran_ingest.archive import Archive, Outcome, Stale, new_id
from siaran_ingest.cap import CapAlert, CapError, CapTooLargeError, parse_cap
from siaran_ingest.schema import AnnouncementIn
from siaran_ingest.submissions import Submission, SubmissionState
from siaran_ingest.workflow import entry_status, shown_status, step

UNPUBLISHED = (SubmissionState.DRAFT, SubmissionState.PENDING_APPROVAL, SubmissionState.REJECTED)


class Intake:
    """Submissions and cancellations, counted in `siaran_announcements_total{status}`."""

    def __init__(
        self,
        archive: Archive,
        *,
        now: Callable[[], datetime] = utcnow,
        max_cap_bytes: int = 256 * 1024,
    ) -> None:
        self.archive = archive
        self._now = now
        self._max_cap_bytes = max_cap_bytes
        self._counter = counter(ANNOUNCEMENTS)

    def count(self, status: str) -> None:
        """Add one to the announcements counter (accepted|rejected|duplicate|cancelled)."""
        self._counter.add(1, {"status": status})

    async def submit(self, raw: bytes, content_type: str | None, key: ApiKey) -> Answer:
        """Submit a JSON or CAP body; raises Rejected when it cannot be accepted."""
        try:
            kind = media_type(content_type)
            if kind == CAP_TYPE:
                return await self._cap(raw, key)
            if kind in ("", JSON_TYPE) or kind.endswith("+json"):
                return await self._json(raw, key)
            raise Rejected(
                415,
                f"unsupported Content-Type {kind!r}: send {JSON_TYPE} (the announcement JSON) "
                f"or {CAP_TYPE} (a CAP 1.2 alert)",
                [{"field": "content-type", "message": f"expected {JSON_TYPE} or {CAP_TYPE}"}],
            )
        except Rejected:
            self.count("rejected")
            raise

    async def _json(self, raw: bytes, key: ApiKey) -> Answer:
        try:
            body = AnnouncementIn.model_validate_json(raw)
        except ValidationError as exc:
            raise invalid(exc) from None
        return await self._accept(body, key)

    async def _cap(self, raw: bytes, key: ApiKey) -> Answer:
        try:
            alert = parse_cap(raw, is_region=regions().exists, max_bytes=self._max_cap_bytes)
        except CapTooLargeError as exc:
            raise Rejected(413, f"CAP document is larger than {self._max_cap_bytes} bytes") from exc
        except CapError as exc:
            details = [{"field": path, "message": message} for path, message in exc.details]
            fields = ", ".join(d["field"] for d in details[:5])
            raise Rejected(422, f"invalid CAP 1.2 alert: check {fields}", details) from None
        if alert.msg_type != "new" and not key.has_role("publish"):
            raise Rejected(
                403,
                f"key {key.name!r} may not send a CAP {alert.msg_type}: it needs the publish role",
                [{"field": "alert.msgType", "message": "needs the publish role"}],
            )
        if alert.msg_type == "cancel":
            return await self._cap_cancel(alert, key)
        try:
            body = AnnouncementIn.model_validate(alert.announcement)
        except ValidationError as exc:
            raise invalid(exc, prefix="CAP alert maps to an invalid announcement") from None
        if alert.msg_type == "new":
            return await self._accept(body, key)
        # Update: the new announcement replaces the referenced ones, which are cancelled so
        # their pending deliveries stop. References unknown here (sent by other means) are
        # skipped; known ones outside the key's scope refuse the whole update.
        known = await self._referenced(alert, key)
        outcome = await self._accept(body, key, replaces=known[-1] if known else None)
        for old in known:
            if old != outcome.id:
                await self.archive.cancel(old, key, f"updated by CAP alert {alert.identifier}")
                self.count("cancelled")
        return outcome

    async def _cap_cancel(self, alert: CapAlert, key: ApiKey) -> Answer:
        known = await self._referenced(alert, key)
        if not known:
            refs = ", ".join(alert.references)
            raise Rejected(
                404,
                f"CAP Cancel {alert.identifier!r} references no known announcement ({refs})",
                [{"field": "alert.references", "message": "no referenced announcement is known"}],
            )
        for old in known:
            await self.archive.cancel(old, key, f"cancelled by CAP alert {alert.identifier}")
            self.count("cancelled")
        return Answer(known[-1], "cancelled", cancelled=tuple(known))

    async def _referenced(self, alert: CapAlert, key: ApiKey) -> list[str]:
        known: list[str] = []
        forbidden: list[str] = []
        for ref in alert.references:
            submission = await self.archive.get(ref)
            if submission is None:
                continue
            (known if visible(key, submission) else forbidden).append(ref)
        if forbidden:
            raise Rejected(
                403,
                f"key {key.name!r} ({key.scope}) may not change announcement(s) "
                f"{', '.join(forbidden)}",
                [{"field": "alert.references", "message": f"out of scope: {r}"} for r in forbidden],
            )
        return known

    async def _accept(
        self, body: AnnouncementIn, key: ApiKey, *, replaces: str | None = None
    ) -> Answer:
        now = self._now()
        check_content(body, key, now)
        hold = allowed(lambda: entry_status(key, body.draft))
        announcement = body.to_announcement(body.id or new_id(now))
        result = await self.archive.submit(announcement, key, replaces=replaces, hold=hold)
        if result.outcome is Outcome.CONFLICT:
            raise Rejected(
                409,
                f"announcement {announcement.id!r} was already submitted with different "
                "content; use a new id",
                [{"field": "id", "message": "already used for a different announcement"}],
            )
        shown = answer_status(result.submission)
        self.count(result.outcome.value if shown == "accepted" else shown)
        return Answer(
            announcement.id,
            shown,
            result.outcome is Outcome.DUPLICATE,
            result.submission.replaces or None,
        )

    async def act(
        self, announcement_id: str, key: ApiKey, action: str, reason: str | None = None
    ) -> Answer:
        """A workflow step (submit, approve, reject) on an announcement the key can see."""
        submission = await self.read(announcement_id, key)
        move = allowed(lambda: step(key, submission, action))
        try:
            moved = await self.archive.transition(submission, move.target, key, action, reason)
        except Stale:
            current = await self.read(announcement_id, key)
            raise Rejected(
                409,
                f"announcement {announcement_id!r} changed meanwhile: it is "
                f"{shown_status(current)}, no longer {shown_status(submission)}",
                [{"field": "status", "message": "changed by another request"}],
            ) from None
        shown = answer_status(moved)
        self.count(shown)
        return Answer(announcement_id, shown)

    async def cancel(self, announcement_id: str, key: ApiKey, reason: str | None = None) -> Answer:
        """Cancel an announcement the key can see; repeating it is harmless."""
        submission = await self.archive.get(announcement_id)
        if submission is None or not visible(key, submission):
            raise Rejected(404, f"no announcement {announcement_id!r}")
        if submission.status in UNPUBLISHED:
            raise Rejected(
                409,
                f"announcement {announcement_id!r} is {submission.status.value}; cancel needs "
                "it to be accepted",
                [{"field": "status", "message": "never published: nothing to cancel"}],
            )
        await self.archive.cancel(announcement_id, key, reason)
        self.count("cancelled")
        return Answer(announcement_id, "cancelled")

    async def read(self, announcement_id: str, key: ApiKey) -> Submission:
        """The archived announcement with its state, if the key can see it."""
        submission = await self.archive.get(announcement_id)
        if submission is None or not visible(key, submission):
            raise Rejected(404, f"no announcement {announcement_id!r}")
        return submission
