"""Accepting announcements: idempotency by id and content, publication once, recovery of what
a crashed replica left unpublished, cancellation.

Plain logic over the submissions repository and a publish function, so it is tested without
a broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from siaran_shared.auth import ApiKey
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    Event,
    utcnow,
)

from siaran_ingest.submissions import (
    HistoryEntry,
    Submission,
    Submissions,
    SubmissionState,
    fail,
)

Publish = Callable[[Event], Awaitable[None]]

#: A submission archived but not confirmed published this long after its first attempt gave
#: up (the publish timeout) is published by the sweep.
STALE_PENDING = timedelta(seconds=30)


class PublishFailed(RuntimeError):
    """The announcements topic did not confirm in time; nothing was accepted, retry the same id."""


class Stale(RuntimeError):
    """Another request changed the submission between reading and writing it."""


class Outcome(StrEnum):
    """What a submission came to."""

    ACCEPTED = "accepted"  # archived and published now
    DUPLICATE = "duplicate"  # the same id and content was submitted before: published
    CONFLICT = "conflict"  # the same id was submitted with other content


@dataclass(frozen=True, slots=True)
class SubmitResult:
    outcome: Outcome
    submission: Submission


def content_hash(announcement: Announcement) -> str:
    """Hash of the announcement's content, the test for "same id, same content"."""
    data = announcement.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def new_id(now: datetime) -> str:
    """A server-made announcement id."""
    return f"siaran-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}"


class Archive:
    """Announcements as accepted, keyed by id, published once.

    The store's insert-if-absent decides which of several identical submissions is the first;
    only that one publishes. Repeats arriving while it publishes wait for its outcome (in this
    process), so every caller's answer means "published", and a failed publication removes the
    record so that the client's retry with the same id publishes afresh.

    A record still `pending` with no publication in flight here was left by a replica that
    crashed between its store write and its produce (or is still publishing there): a repeat
    of the submission publishes it itself before answering, and :meth:`sweep` publishes those
    nobody repeats. Publishing twice is harmless: AnnouncementAccepted is idempotent by id
    downstream (the router plans an announcement once).
    """

    def __init__(
        self,
        submissions: Submissions,
        publish: Publish,
        *,
        publish_timeout: float = 10.0,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._submissions = submissions
        self._publish = publish
        self._publish_timeout = publish_timeout
        self._now = now
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._waiting: dict[str, int] = {}

    async def submit(
        self,
        announcement: Announcement,
        key: ApiKey,
        *,
        replaces: str | None = None,
        hold: SubmissionState | None = None,
    ) -> SubmitResult:
        """Archive and publish once; a repeat with the same content changes nothing. With
        `hold` (draft, pending_approval) it is only archived, in that status."""
        now = self._now()
        action = {SubmissionState.DRAFT: "draft", SubmissionState.PENDING_APPROVAL: "submit"}
        first = action.get(hold, "publish") if hold is not None else "publish"
        submission = Submission(
            id=announcement.id,
            hash=content_hash(announcement),
            status=hold or SubmissionState.PENDING,
            announcement=announcement,
            submitted_by=key.name,
            scope=key.scope,
            accepted_at=now,
            replaces=replaces,
            history=(HistoryEntry(at=now, by=key.name, action=first),),
            submitted_key=key.id,
        )
        for _ in range(3):
            if await self._submissions.begin(submission):
                if hold is not None:
                    return SubmitResult(Outcome.ACCEPTED, submission)
                accepted = await self._publish_once(submission, forget_on_failure=True)
                return SubmitResult(Outcome.ACCEPTED, accepted)
            existing = await self._submissions.get(announcement.id)
            if existing is None:  # removed in between (a failed first attempt): try again
                continue
            if existing.hash != submission.hash:
                return SubmitResult(Outcome.CONFLICT, existing)
            if existing.pending:
                existing = await self._recover(existing)  # PublishFailed if it cannot
            return SubmitResult(Outcome.DUPLICATE, existing)
        raise PublishFailed(f"announcement {announcement.id!r} is being retried concurrently")

    async def transition(
        self,
        submission: Submission,
        to: SubmissionState,
        key: ApiKey,
        action: str,
        reason: str | None = None,
    ) -> Submission:
        """Move an archived submission to another status, recording who did it; moving to
        `pending` publishes it exactly as an accepted submission is published. Raises
        :class:`Stale` when another request moved it first."""
        now = self._now()
        changes: dict[str, object] = {
            "status": to,
            "history": (*submission.history, HistoryEntry(at=now, by=key.name, action=action,
                                                          reason=reason)),
        }  # fmt: skip
        if action == "submit":
            changes |= {"submitted_by": key.name, "submitted_key": key.id, "scope": key.scope}
        if to is SubmissionState.PENDING:
            changes["accepted_at"] = now
        moved = submission.model_copy(update=changes)
        if not await self._submissions.move(submission, moved):
            raise Stale(submission.id)
        if to is not SubmissionState.PENDING:
            return moved
        return await self._publish_once(moved, forget_on_failure=False)

    async def sweep(self) -> int:
        """Publish every submission left pending for longer than a first publication can
        take (its replica crashed, and no repeat came); returns how many were published."""
        cutoff = self._now() - STALE_PENDING - timedelta(seconds=self._publish_timeout)
        stale = await self._submissions.pending_since_before(cutoff)
        for submission in stale:
            await self._recover(submission)
        return len(stale)

    async def _recover(self, submission: Submission) -> Submission:
        """Publish a pending submission unless this process is publishing it already; it
        stays pending when that fails, so the next repeat or sweep tries again."""
        inflight = self._inflight.get(submission.id)
        if inflight is None:
            return await self._publish_once(submission, forget_on_failure=False)
        self._waiting[submission.id] = self._waiting.get(submission.id, 0) + 1
        try:
            await asyncio.shield(inflight)  # raises PublishFailed if that attempt failed
        finally:
            self._waiting[submission.id] -= 1
            if not self._waiting[submission.id]:
                del self._waiting[submission.id]
        return submission.accepted()

    def waiting(self, announcement_id: str) -> int:
        """How many repeats of a submission wait here for its publication in flight."""
        return self._waiting.get(announcement_id, 0)

    async def _publish_once(self, submission: Submission, *, forget_on_failure: bool) -> Submission:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[submission.id] = future
        try:
            accepted = await self._confirm(submission)
        except Exception as exc:
            if forget_on_failure:
                with contextlib.suppress(Exception):
                    await self._submissions.forget(submission.id)
            failure = exc if isinstance(exc, PublishFailed) else PublishFailed(str(exc))
            fail(future, failure)
            raise failure from exc
        except BaseException:  # cancelled: the record stays pending; a repeat or sweep recovers
            fail(future, PublishFailed("the first submission was interrupted; retry"))
            raise
        else:
            future.set_result(None)
            return accepted
        finally:
            self._inflight.pop(submission.id, None)

    async def _confirm(self, submission: Submission) -> Submission:
        event = AnnouncementAccepted(
            announcement=submission.announcement,
            accepted_at=submission.accepted_at,
            submitted_by=submission.submitted_by,
            replaces=submission.replaces,
        )
        await self.publish_in_time(event)
        # Only a cancellation could change the record meanwhile, and cancel() waits for a
        # publication in flight here.
        return await self._submissions.accept(submission)

    async def publish_in_time(self, event: Event) -> None:
        """Produce an event on the announcements topic; PublishFailed when not confirmed."""
        try:
            await asyncio.wait_for(self._publish(event), self._publish_timeout)
        except TimeoutError as exc:
            raise PublishFailed(
                f"Kafka did not confirm within {self._publish_timeout:g} s"
            ) from exc
        except Exception as exc:  # the broker refused or is away: the caller answers 503
            raise PublishFailed(str(exc)) from exc

    async def get(self, announcement_id: str) -> Submission | None:
        """The archived submission of an announcement."""
        return await self._submissions.get(announcement_id)

    @property
    def submissions(self) -> Submissions:
        """The repository underneath (edits, corrections, listing, completion)."""
        return self._submissions

    async def cancel(
        self, announcement_id: str, key: ApiKey, reason: str | None = None
    ) -> Submission | None:
        """Publish AnnouncementCancelled (again, harmlessly, on a repeat); None if unknown."""
        inflight = self._inflight.get(announcement_id)
        if inflight is not None:
            with contextlib.suppress(PublishFailed):
                await asyncio.shield(inflight)
        submission = await self._submissions.get(announcement_id)
        if submission is None:
            return None
        cancelled_at = submission.cancelled_at or self._now()
        await self.publish_in_time(
            AnnouncementCancelled(
                announcement_id=announcement_id,
                cancelled_at=cancelled_at,
                cancelled_by=key.name,
                reason=reason,
            )
        )
        return await self._submissions.cancel(submission, cancelled_at)
