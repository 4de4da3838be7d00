"""Replacing an announcement's content (`PUT /v1/announcements/{id}`): an edit of a draft or
pending_approval announcement (back to draft), or a correction of an accepted or completed
one, published as the next revision.

A correction is produced first and recorded after, as a submission is: when Kafka does not
confirm, nothing changes (503; retry the same body). When the record cannot be written after
the produce, the retry produces the same revision with the same content again, which the
deliveries take once (their Idempotency-Key carries the revision). The same body twice is one
revision. Replacements of one announcement run one at a time in this process, so two of them
never publish the same revision with different content; across replicas the record's
compare-and-set refuses the later one (409).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from pydantic import ValidationError
from siaran_shared.auth import ApiKey
from siaran_shared.events import Announcement, AnnouncementUpdated, utcnow

from siaran_ingest.answers import (
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
from siaran_ingest.archive import Archive, content_hash
from siaran_ingest.schema import AnnouncementIn
from siaran_ingest.submissions import HistoryEntry, Submission, SubmissionState
from siaran_ingest.workflow import Step, revision_step, shown_status


class Revisions:
    """Edits and corrections of archived announcements."""

    def __init__(self, archive: Archive, *, now: Callable[[], datetime] = utcnow) -> None:
        self._archive = archive
        self._now = now
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    async def replace(
        self, announcement_id: str, raw: bytes, content_type: str | None, key: ApiKey
    ) -> Answer:
        """Replace the content of an announcement the key can see; raises Rejected when it
        may not, PublishFailed when a correction was not confirmed (nothing changed)."""
        body = _parse(raw, content_type, announcement_id)
        async with self._one_at_a_time(announcement_id):
            submission = await self._archive.get(announcement_id)
            if submission is None or not visible(key, submission):
                raise Rejected(404, f"no announcement {announcement_id!r}")
            move = allowed(lambda: revision_step(key, submission))
            check_content(body, key, self._now())
            announcement = body.to_announcement(announcement_id)
            if content_hash(announcement) == submission.hash and (
                move.action == "correct" or submission.status is move.target
            ):
                return Answer(
                    announcement_id, answer_status(submission), revision=submission.revision
                )
            revised = self._revised(submission, announcement, key, move)
            if move.action == "correct":
                await self._archive.publish_in_time(
                    AnnouncementUpdated(
                        announcement=announcement,
                        revision=revised.revision,
                        accepted_at=submission.accepted_at,
                        updated_at=revised.history[-1].at,
                        updated_by=key.name,
                        submitted_by=submission.submitted_by,
                    )
                )
            if not await self._archive.submissions.move(submission, revised):
                current = await self._archive.get(announcement_id)
                if current is not None and _only_completed_meanwhile(submission, current, move):
                    # metrics' completion marked it completed between the read and the
                    # write: the correction (already published) applies to that record too
                    revised = self._revised(current, announcement, key, move)
                    if await self._archive.submissions.move(current, revised):
                        return Answer(
                            announcement_id, answer_status(revised), revision=revised.revision
                        )
                    current = await self._archive.get(announcement_id)
                now = shown_status(current) if current else "gone"
                raise Rejected(
                    409,
                    f"announcement {announcement_id!r} changed meanwhile: it is {now}, "
                    f"no longer {shown_status(submission)}",
                    [{"field": "status", "message": "changed by another request"}],
                )
        return Answer(announcement_id, answer_status(revised), revision=revised.revision)

    def _revised(
        self, submission: Submission, announcement: Announcement, key: ApiKey, move: Step
    ) -> Submission:
        entry = HistoryEntry(at=self._now(), by=key.name, action=move.action)
        correcting = move.action == "correct"
        return submission.model_copy(
            update={
                "announcement": announcement,
                "hash": content_hash(announcement),
                "status": move.target,
                "revision": submission.revision + 1 if correcting else submission.revision,
                "history": (*submission.history, entry),
            }
        )

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, announcement_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(announcement_id, asyncio.Lock())
        self._users[announcement_id] = self._users.get(announcement_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[announcement_id] -= 1
            if not self._users[announcement_id]:
                del self._users[announcement_id], self._locks[announcement_id]


def _parse(raw: bytes, content_type: str | None, announcement_id: str) -> AnnouncementIn:
    kind = media_type(content_type)
    if kind not in ("", JSON_TYPE) and not kind.endswith("+json"):
        raise Rejected(
            415,
            f"unsupported Content-Type {kind!r}: a replacement is the announcement JSON "
            f"({JSON_TYPE})",
            [{"field": "content-type", "message": f"expected {JSON_TYPE}"}],
        )
    try:
        body = AnnouncementIn.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(exc) from None
    if body.id is not None and body.id != announcement_id:
        raise Rejected(
            422,
            f"the body's id {body.id!r} is not the announcement's id {announcement_id!r}",
            [{"field": "id", "message": "must be absent or the id in the path"}],
        )
    return body


def _only_completed_meanwhile(before: Submission, current: Submission, move: Step) -> bool:
    """Whether the record a correction could not write differs from the one it read only by
    the completion of the same revision (accepted → completed)."""
    return (
        move.action == "correct"
        and current.status is SubmissionState.COMPLETED
        and current.revision == before.revision
        and current.hash == before.hash
        and current.cancelled_at is None
    )
