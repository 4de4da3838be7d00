"""Accepting announcements: idempotency by id and content, the archive, cancellation.

Plain logic over the store and a publish function, so it is tested without a broker.
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

#: A submission archived but not confirmed published this long after its first attempt gave
#: up (the publish timeout) is published by the sweep.
STALE_PENDING = timedelta(seconds=30)


class PublishFailed(RuntimeError):
    """The announcements topic did not confirm in time; nothing was accepted, retry the same id."""


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
    """Announcements as accepted, keyed by id, with their publication state.

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
        announcements: Collection,
        publish: Publish,
        *,
        publish_timeout: float = 10.0,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._docs = announcements
        self._publish = publish
        self._publish_timeout = publish_timeout
        self._now = now
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._marks = GroupWriter(announcements)

    async def submit(
        self, announcement: Announcement, key: ApiKey, *, replaces: str | None = None
    ) -> Submission:
        """Archive and publish once; a repeat with the same content changes nothing."""
        now = self._now()
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
        for _ in range(3):
            if await self._docs.insert(announcement.id, record):
                await self._first(record)
                return Submission("accepted", record)
            existing = await self._docs.get(announcement.id)
            if existing is None:  # removed in between (a failed first attempt): try again
                continue
            if existing["hash"] != digest:
                return Submission("conflict", existing)
            if existing["status"] == "pending":
                await self._recover(existing)  # raises PublishFailed if it cannot publish
            return Submission("duplicate", existing)
        raise PublishFailed(f"announcement {announcement.id!r} is being retried concurrently")

    async def sweep(self) -> int:
        """Publish every record left `pending` for longer than a first publication can take
        (its replica crashed, and no repeat came); returns how many were published."""
        age = STALE_PENDING + timedelta(seconds=self._publish_timeout)
        cutoff = (self._now() - age).isoformat()
        stale = await self._docs.find({"status": "pending", "accepted_at": {"$lt": cutoff}})
        for record in stale:
            await self._recover(record)
        return len(stale)

    async def _recover(self, record: dict[str, Any]) -> None:
        """Publish a pending record unless this process is publishing it already; the
        record stays pending when that fails, so the next repeat or sweep tries again."""
        inflight = self._inflight.get(record["id"])
        if inflight is None:
            await self._first(record, forget_on_failure=False)
        else:
            await asyncio.shield(inflight)  # raises PublishFailed if that attempt failed
        record["status"] = "accepted"

    async def _first(self, record: dict[str, Any], *, forget_on_failure: bool = True) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight[record["id"]] = future
        try:
            await self._confirm(record)
        except Exception as exc:
            if forget_on_failure:
                with contextlib.suppress(Exception):
                    await self._docs.delete(record["id"])
            failure = exc if isinstance(exc, PublishFailed) else PublishFailed(str(exc))
            _fail(future, failure)
            raise failure from exc
        except BaseException:  # cancelled: the record stays pending; STALE_PENDING recovers it
            _fail(future, PublishFailed("the first submission was interrupted; retry"))
            raise
        else:
            future.set_result(None)
        finally:
            self._inflight.pop(record["id"], None)

    async def _confirm(self, record: dict[str, Any]) -> None:
        event = AnnouncementAccepted(
            announcement=Announcement.model_validate(record["announcement"]),
            accepted_at=datetime.fromisoformat(record["accepted_at"]),
            submitted_by=record["submitted_by"],
            replaces=record.get("replaces"),
        )
        await self._publish_in_time(event)
        # An upsert of the record in hand instead of a read-modify-write update, grouped with
        # the other submissions finishing meanwhile into one store write (one commit): it
        # halves the store round trips on the hot path. Only a cancellation could have changed
        # the record meanwhile, and cancel() waits for an in-flight first submission.
        record["status"] = "accepted"
        await self._marks.put(record)

    async def _publish_in_time(self, event: Event) -> None:
        try:
            await asyncio.wait_for(self._publish(event), self._publish_timeout)
        except TimeoutError as exc:
            raise PublishFailed(
                f"Kafka did not confirm within {self._publish_timeout:g} s"
            ) from exc

    async def get(self, announcement_id: str) -> dict[str, Any] | None:
        """The archived record of an announcement."""
        return await self._docs.get(announcement_id)

    async def cancel(
        self, announcement_id: str, key: ApiKey, reason: str | None = None
    ) -> dict[str, Any] | None:
        """Publish AnnouncementCancelled (again, harmlessly, on a repeat); None if unknown."""
        inflight = self._inflight.get(announcement_id)
        if inflight is not None:
            with contextlib.suppress(PublishFailed):
                await asyncio.shield(inflight)
        record = await self._docs.get(announcement_id)
        if record is None:
            return None
        cancelled_at = record.get("cancelled_at") or utcnow().isoformat()
        await self._publish_in_time(
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


class GroupWriter:
    """Upserts of whole documents, written together: while one write runs, the next ones
    queue and then go in a single put_many (group commit). Each caller waits for its own."""

    def __init__(self, docs: Collection) -> None:
        self._docs = docs
        self._queue: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def put(self, doc: dict[str, Any]) -> None:
        """Write `doc` under its id; returns once it is stored (or raises why not)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((doc, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._docs.put_many({doc["id"]: doc for doc, _ in batch})
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        _fail(future, PublishFailed(f"archive write failed: {exc}"))
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)


def _fail(future: asyncio.Future[None], failure: Exception) -> None:
    future.set_exception(failure)
    future.exception()  # mark retrieved: no "never retrieved" warning when nobody waited
