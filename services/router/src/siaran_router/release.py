"""The router's outbox: planned deliveries are stored in batches (one per announcement and
release time) before the announcement's offset is committed, and released from the store
by one loop, most urgent first.

Why a store and not the handler: a scheduled batch must survive restarts and never go out
early, and an urgent announcement must not wait behind the fan-out of a large normal one.
The loop releases a batch in chunks and, between chunks, yields to a more urgent batch
that became due. A release is at least once: a crash mid-batch resumes it after the lease
and the publisher's claims by delivery id make a repeated task harmless.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from siaran_shared.events import (
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Priority,
    utcnow,
)
from siaran_shared.logging import get_logger
from siaran_shared.store import Collection
from siaran_shared.tracing import restore, trace_carrier

from siaran_router.schedule import stamp

log = get_logger(__name__)

RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}
HELD, RELEASING, RELEASED = "held", "releasing", "released"
CANCELLING, CANCELLED = "cancelling", "cancelled"
#: Tasks per stored document: a national batch of any registry size stays far below
#: MongoDB's 16 MB document limit.
PIECE = 1000
_TASKS = TypeAdapter(list[DeliveryPlanned])

Emit = Callable[[Sequence[DeliveryPlanned], Sequence[DeliveryCompleted]], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass
class Batch:
    """Deliveries of one announcement released together at `due`."""

    announcement_id: str
    due: datetime
    priority: Priority
    tasks: list[DeliveryPlanned] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.announcement_id}@{stamp(self.due)}"


@dataclass
class Stopped:
    """An announcement's batches stopped by a cancellation, and their tasks."""

    keys: list[str] = field(default_factory=list)
    #: tasks never released: they end cancelled
    never: list[DeliveryPlanned] = field(default_factory=list)
    #: tasks perhaps released: they are retracted
    maybe: list[DeliveryPlanned] = field(default_factory=list)


def outcome(task: DeliveryPlanned, status: DeliveryStatus, why: str) -> DeliveryCompleted:
    """The terminal outcome of a task the router ends itself (expired, cancelled)."""
    return DeliveryCompleted.of(task, status, attempts=0, response=why)


class Releaser:
    """Holds batches durably and releases each once due, most urgent first."""

    def __init__(
        self,
        batches: Collection,
        tasks: Collection,
        emit: Emit,
        *,
        owner: str,
        clock: Clock = utcnow,
        chunk: int = 500,
        lease: timedelta = timedelta(seconds=30),
        tick: float = 1.0,
    ) -> None:
        self._batches = batches
        self._tasks = tasks
        self._emit = emit
        self._owner = owner
        self._clock = clock
        self._chunk = chunk
        self._lease = lease
        self._tick = tick
        self._memory: dict[str, list[DeliveryPlanned]] = {}  # batches held by this process
        self._wake = asyncio.Event()
        self._current_rank: int | None = None
        self._preempt = False

    async def hold(self, batches: Sequence[Batch]) -> None:
        """Store batches (idempotent by key) and wake the loop for those already due.

        A batch's tasks are stored first, in compressed pieces of PIECE tasks, all in one
        write; a batch already held (a replay) keeps the tasks it was held with.
        """
        now = self._clock()
        held = await self._batches.get_many([b.key for b in batches])
        fresh = [b for b in batches if b.key not in held]
        pieces: dict[str, dict[str, Any]] = {}
        for batch in fresh:
            for n, start in enumerate(range(0, len(batch.tasks), PIECE)):
                pieces[_piece_key(batch.key, n)] = _pack(batch.tasks[start : start + PIECE])
        await self._tasks.put_many(pieces)
        inserted = await self._batches.insert_many(
            {
                batch.key: {
                    "id": batch.key,
                    "announcement_id": batch.announcement_id,
                    "due": stamp(batch.due),
                    "rank": RANK[batch.priority],
                    "priority": batch.priority.value,
                    "status": HELD,
                    "size": len(batch.tasks),
                    "pieces": -(-len(batch.tasks) // PIECE),
                    "sent": 0,
                    # the announcement's trace, for a release after a restart
                    "trace": trace_carrier(batch.announcement_id),
                }
                for batch in fresh
            }
        )
        for batch in fresh:
            if batch.key in inserted and batch.due <= now:
                self._memory[batch.key] = batch.tasks
                rank = RANK[batch.priority]
                if self._current_rank is not None and rank < self._current_rank:
                    self._preempt = True
        self._wake.set()

    async def stop(self, announcement_id: str) -> Stopped:
        """Step one of a cancellation: the loop releases none of the announcement's batches
        from now on. Batches stopped by an earlier attempt that did not finish are returned
        again, so a cancellation that failed half-way is done again, not forgotten."""
        stopped = Stopped()
        for doc in await self._batches.find({"announcement_id": announcement_id}):
            was = await self._mark_cancelling(doc)
            if was is None:
                continue
            self._memory.pop(doc["id"], None)
            stopped.keys.append(doc["id"])
            (stopped.never if was == HELD else stopped.maybe).extend(await self._load(doc))
        return stopped

    async def cancelled(self, stopped: Stopped) -> None:
        """Step two, once the retractions and outcomes of `stopped` are produced."""
        for key in stopped.keys:
            await self._batches.update(key, {"status": CANCELLED}, where={"status": CANCELLING})

    async def _mark_cancelling(self, doc: dict[str, Any]) -> str | None:
        """Mark a batch cancelling; returns the status it had (None: already cancelled)."""
        while True:
            status = doc["status"]
            if status == CANCELLED:
                return None
            if status == CANCELLING:
                return str(doc["was"])
            if await self._batches.update(
                doc["id"], {"status": CANCELLING, "was": status}, where={"status": status}
            ):
                return str(status)
            # the loop changed it meanwhile (claimed or released it): read it again
            doc = await self._batches.get(doc["id"]) or {**doc, "status": CANCELLED}

    async def pending(self) -> int:
        """Deliveries held or being released."""
        docs = await self._batches.find({"status": {"$in": [HELD, RELEASING]}})
        return sum(d["size"] - d.get("sent", 0) for d in docs)

    async def run(self) -> None:
        """Release due batches for the service's lifetime."""
        while True:
            try:
                await self.release_due()
                wait = await self._seconds_to_next_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("release_failed")
                wait = self._tick
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def release_due(self) -> int:
        """Release every batch due now, most urgent first; returns the tasks released.

        Small batches due together (many announcements to a few channels each) go out in one
        produce of up to a chunk, so a burst of them costs one round trip, not one each.
        """
        released = 0
        while True:
            docs = await self._due()
            if not docs:
                return released
            group = self._small_group(docs)
            if len(group) > 1:
                released += await self._release_together(group)
            else:
                released += await self._release(docs[0])

    async def _due(self) -> list[dict[str, Any]]:
        """Batches to release now (held, or releasing with this owner or an expired lease),
        most urgent first."""
        now = stamp(self._clock())
        docs = await self._batches.find(
            {
                "due": {"$lte": now},
                "$or": [
                    {"status": HELD},
                    {"status": RELEASING, "owner": self._owner},
                    {"status": RELEASING, "lease_until": {"$lt": now}},
                ],
            }
        )
        return sorted(docs, key=lambda d: (d["rank"], d["due"], d["id"]))

    def _small_group(self, docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The leading held batches of the most urgent rank that fit in one chunk together."""
        group: list[dict[str, Any]] = []
        room = self._chunk
        for doc in docs:
            size = int(doc["size"])
            if doc["rank"] != docs[0]["rank"] or doc["status"] != HELD or size > room:
                break
            group.append(doc)
            room -= size
        return group

    async def _release_together(self, docs: Sequence[dict[str, Any]]) -> int:
        claimed = [doc for doc in docs if await self._claim(doc)]
        tasks: list[DeliveryPlanned] = []
        for doc in claimed:
            tasks.extend(self._memory.get(doc["id"]) or await self._load(doc))
            restore(doc["announcement_id"], doc.get("trace"))
        await self._emit_chunk(tasks)
        for doc in claimed:
            # a batch cancelled meanwhile stays cancelled: its cancellation retracts
            await self._batches.update(
                doc["id"],
                {"status": RELEASED, "sent": doc["size"]},
                where={"status": RELEASING, "owner": self._owner},
            )
            self._memory.pop(doc["id"], None)
        log.info(
            "batches_released",
            batches=len(claimed),
            deliveries=len(tasks),
            announcement_ids=[doc["announcement_id"] for doc in claimed][:20],
            priority=claimed[0].get("priority") if claimed else None,
        )
        return len(tasks)

    async def _seconds_to_next_due(self) -> float:
        docs = await self._batches.find({"status": HELD}, order_by="due", limit=1)
        if not docs:
            return self._tick
        due = datetime.fromisoformat(docs[0]["due"].replace("Z", "+00:00"))
        return max(0.0, min(self._tick, (due - self._clock()).total_seconds()))

    async def _release(self, doc: dict[str, Any]) -> int:
        key = doc["id"]
        if not await self._claim(doc):
            return 0
        tasks = self._memory.get(key) or await self._load(doc)
        restore(doc["announcement_id"], doc.get("trace"))
        sent = int(doc.get("sent", 0))
        self._current_rank, self._preempt = doc["rank"], False
        try:
            while sent < len(tasks):
                chunk = tasks[sent : sent + self._chunk]
                await self._emit_chunk(chunk)
                sent += len(chunk)
                still_ours = await self._batches.update(
                    key,
                    {"sent": sent, "lease_until": stamp(self._clock() + self._lease)},
                    where={"status": RELEASING, "owner": self._owner},
                )
                if not still_ours:  # cancelled meanwhile: its cancellation retracts
                    log.info("release_stopped", batch=key, sent=sent)
                    self._memory.pop(key, None)
                    return len(tasks[:sent]) - int(doc.get("sent", 0))
                if self._preempt and sent < len(tasks):
                    log.info("release_preempted", batch=key, sent=sent, total=len(tasks))
                    return sent - int(doc.get("sent", 0))
            await self._batches.update(
                key, {"status": RELEASED}, where={"status": RELEASING, "owner": self._owner}
            )
            self._memory.pop(key, None)
            log.info(
                "batch_released",
                announcement_id=doc["announcement_id"],
                batch=key,
                deliveries=len(tasks),
                priority=doc.get("priority"),
            )
            return sent - int(doc.get("sent", 0))
        finally:
            self._current_rank = None

    async def _claim(self, doc: dict[str, Any]) -> bool:
        changes = {
            "status": RELEASING,
            "owner": self._owner,
            "lease_until": stamp(self._clock() + self._lease),
        }
        return await self._batches.update(
            doc["id"], changes, where={"status": doc["status"], "sent": doc.get("sent", 0)}
        )

    async def _emit_chunk(self, chunk: Sequence[DeliveryPlanned]) -> None:
        now = self._clock()
        live: list[DeliveryPlanned] = []
        expired: list[DeliveryCompleted] = []
        for task in chunk:
            if task.expires_at is not None and task.expires_at <= now:
                expired.append(outcome(task, DeliveryStatus.EXPIRED, "expired before release"))
            else:
                live.append(task)
        await self._emit(live, expired)

    async def _load(self, doc: dict[str, Any]) -> list[DeliveryPlanned]:
        key = doc["id"]
        if "pieces" not in doc:  # held before tasks were stored in pieces
            legacy = await self._tasks.get(key)
            return [DeliveryPlanned.model_validate(t) for t in (legacy or {}).get("tasks", [])]
        keys = [_piece_key(key, n) for n in range(doc["pieces"])]
        found = await self._tasks.get_many(keys)
        tasks: list[DeliveryPlanned] = []
        for piece in keys:
            if piece not in found:  # never written by hold(); one bad batch must not stall the rest
                log.error("batch_tasks_missing", batch=key, piece=piece)
                continue
            tasks.extend(_unpack(found[piece]))
        return tasks


def _pack(tasks: Sequence[DeliveryPlanned]) -> dict[str, Any]:
    # Serialised once in pydantic's core, then compressed: a piece's tasks repeat the same
    # texts per kind, so a national batch shrinks from megabytes to kilobytes, and the store
    # writes one short string instead of encoding thousands of nested documents.
    packed = base64.b64encode(zlib.compress(_TASKS.dump_json(list(tasks)), 1)).decode()
    return {"encoding": "json+zlib+base64", "tasks": packed}


def _unpack(doc: dict[str, Any]) -> list[DeliveryPlanned]:
    return _TASKS.validate_json(zlib.decompress(base64.b64decode(doc["tasks"])))


def _piece_key(batch_key: str, n: int) -> str:
    return f"{batch_key}#{n}"
