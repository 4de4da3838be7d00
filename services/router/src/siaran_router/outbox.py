"""The router's outbox: release batches and their tasks in the store.

One batch per announcement and release time, held before the announcement's offset is
committed, so a scheduled batch survives restarts. This repository is the only place that
knows how batches are stored; the release loop and the fan-out call its transitions:

    held ──claim──▶ releasing ──release──▶ released
      │                 │  └──renew (sent so far, lease)──┘
      └────stop─────────┴──▶ cancelling ──cancel──▶ cancelled (or superseded)

`stop` comes first in a cancellation and `cancel` after its outcomes are produced, so a
cancellation that fails in between finds its batches still `cancelling` and is done again.
A correction stops the batches of older revisions the same way, holds the new revision's
batches, and ends the old ones `superseded`.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from siaran_shared.events import DeliveryPlanned, Priority, utcnow
from siaran_shared.logging import get_logger
from siaran_shared.release_times import stamp
from siaran_shared.store import Collection
from siaran_shared.tracing import trace_carrier

log = get_logger(__name__)

RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}
#: Tasks per stored document: a national batch of any registry size stays far below
#: MongoDB's 16 MB document limit.
PIECE = 1000
_TASKS = TypeAdapter(list[DeliveryPlanned])


class BatchState(StrEnum):
    HELD = "held"
    RELEASING = "releasing"
    RELEASED = "released"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a correction's batches replaced it


FINAL = frozenset({BatchState.CANCELLED, BatchState.SUPERSEDED})


@dataclass
class Batch:
    """Deliveries of one announcement to be released together at `due` (not yet stored)."""

    announcement_id: str
    due: datetime
    priority: Priority
    tasks: list[DeliveryPlanned] = field(default_factory=list)
    revision: int = 1
    #: what tells this batch from the announcement's others due at the same time
    tag: str = ""
    #: its tasks replace tasks perhaps released already: a cancellation retracts them
    replaces_released: bool = False

    @property
    def key(self) -> str:
        return f"{self.announcement_id}@{stamp(self.due)}{self.tag}"


class HeldBatch(BaseModel):
    """A batch as the outbox holds it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    announcement_id: str
    due: datetime
    rank: int
    priority: Priority
    status: BatchState
    size: int
    pieces: int
    sent: int = 0
    owner: str | None = None
    #: the state a stopped batch had: held (never released) or releasing/released
    was: BatchState | None = None
    final_at: str | None = None  # released or cancelled: retention counts from here
    #: the announcement's trace, for a release after a restart
    trace: dict[str, str] | None = None
    revision: int = 1
    replaces_released: bool = False


class Batches:
    """Release batches and their tasks (stored in compressed pieces of PIECE tasks)."""

    def __init__(self, batches: Collection, tasks: Collection) -> None:
        self._batches = batches
        self._tasks = tasks

    async def hold(self, batches: Sequence[Batch]) -> list[Batch]:
        """Store batches not held yet (a replay keeps the tasks first held); returns those
        this call stored."""
        held = await self._batches.get_many([b.key for b in batches])
        fresh = [b for b in batches if b.key not in held]
        pieces: dict[str, dict[str, Any]] = {}
        for batch in fresh:
            for n, start in enumerate(range(0, len(batch.tasks), PIECE)):
                pieces[_piece_key(batch.key, n)] = _pack(batch.tasks[start : start + PIECE])
        await self._tasks.put_many(pieces)  # tasks first: a held batch always has them
        inserted = await self._batches.insert_many({b.key: _held(b) for b in fresh})
        return [b for b in fresh if b.key in inserted]

    async def of(self, announcement_id: str) -> list[HeldBatch]:
        return _records(await self._batches.find({"announcement_id": announcement_id}))

    async def due(self, now: datetime, owner: str) -> list[HeldBatch]:
        """Batches to release at `now`: held, or releasing by `owner` or with an expired
        lease; most urgent first."""
        at = stamp(now)
        docs = await self._batches.find(
            {
                "due": {"$lte": at},
                "$or": [
                    {"status": BatchState.HELD.value},
                    {"status": BatchState.RELEASING.value, "owner": owner},
                    {"status": BatchState.RELEASING.value, "lease_until": {"$lt": at}},
                ],
            }
        )
        return sorted(_records(docs), key=lambda b: (b.rank, b.due, b.id))

    async def next_due(self) -> datetime | None:
        """When the earliest held batch is due."""
        docs = await self._batches.find({"status": BatchState.HELD.value}, order_by="due", limit=1)
        return _records(docs)[0].due if docs else None

    async def pending(self) -> int:
        """Deliveries held or being released."""
        states = [BatchState.HELD.value, BatchState.RELEASING.value]
        docs = await self._batches.find({"status": {"$in": states}})
        return sum(b.size - b.sent for b in _records(docs))

    async def claim(self, batch: HeldBatch, owner: str, lease_until: datetime) -> bool:
        """Take a due batch for release, unless someone changed it since it was read."""
        changes = {"status": BatchState.RELEASING.value, "owner": owner,
                   "lease_until": stamp(lease_until)}  # fmt: skip
        return await self._batches.update(
            batch.id, changes, where={"status": batch.status.value, "sent": batch.sent}
        )

    async def renew(self, key: str, owner: str, lease_until: datetime, *, sent: int) -> bool:
        """Record progress and extend the lease; False when the batch is no longer ours
        (it was stopped meanwhile)."""
        return await self._releasing(key, owner, sent=sent, lease_until=stamp(lease_until))

    async def release(self, key: str, owner: str, sent: int) -> bool:
        """Mark a batch released (a batch stopped meanwhile stays stopped)."""
        final = stamp(utcnow())
        released = await self._releasing(
            key, owner, status=BatchState.RELEASED.value, sent=sent, final_at=final
        )
        if released:
            await self._final_pieces(key, final)
        return released

    async def stop(self, batch: HeldBatch) -> BatchState | None:
        """Mark a batch cancelling so it is released no further; returns the state it had
        (a batch stopped before and not yet cancelled: the state it had then), or None
        when it is cancelled already."""
        while True:
            if batch.status in FINAL:
                return None
            if batch.status is BatchState.CANCELLING:
                return batch.was or BatchState.RELEASED
            # not final while its outcomes and retractions are being produced
            changes = {"status": BatchState.CANCELLING.value, "was": batch.status.value,
                       "final_at": None}  # fmt: skip
            if await self._batches.update(batch.id, changes, where={"status": batch.status.value}):
                return batch.status
            # the release loop changed it meanwhile (claimed or released it): read it again
            doc = await self._batches.get(batch.id)
            if doc is None:
                return None
            batch = HeldBatch.model_validate(doc)

    async def cancel(self, key: str, state: BatchState = BatchState.CANCELLED) -> None:
        """A stopped batch's outcomes and retractions (or its replacements) are produced:
        it ends `state` (cancelled or superseded)."""
        final = stamp(utcnow())
        if await self._batches.update(
            key, {"status": state.value, "final_at": final},
            where={"status": BatchState.CANCELLING.value},
        ):  # fmt: skip
            await self._final_pieces(key, final)

    async def tasks(self, batch: HeldBatch) -> list[DeliveryPlanned]:
        """The batch's tasks, in the order they were held."""
        keys = [_piece_key(batch.id, n) for n in range(batch.pieces)]
        found = await self._tasks.get_many(keys)
        tasks: list[DeliveryPlanned] = []
        for piece in keys:
            if piece not in found:  # never written by hold(); one bad batch must not stall the rest
                log.error("batch_tasks_missing", batch=batch.id, piece=piece)
                continue
            tasks.extend(_unpack(found[piece]))
        return tasks

    async def _final_pieces(self, key: str, final: str | None) -> None:
        """The batch's task pieces expire with it (retention counts from `final_at`)."""
        doc = await self._batches.get(key)
        pieces = int(doc.get("pieces", 0)) if doc else 0
        for n in range(pieces):
            await self._tasks.update(_piece_key(key, n), {"final_at": final})

    async def _releasing(self, key: str, owner: str, **changes: Any) -> bool:
        where = {"status": BatchState.RELEASING.value, "owner": owner}
        return await self._batches.update(key, changes, where=where)


def _held(batch: Batch) -> dict[str, Any]:
    record = HeldBatch(
        id=batch.key,
        announcement_id=batch.announcement_id,
        due=batch.due,
        rank=RANK[batch.priority],
        priority=batch.priority,
        status=BatchState.HELD,
        size=len(batch.tasks),
        pieces=-(-len(batch.tasks) // PIECE),
        trace=trace_carrier(batch.announcement_id),
        revision=batch.revision,
        replaces_released=batch.replaces_released,
    )
    # times as fixed-width UTC strings, whose order the store's comparisons follow
    return record.model_dump(mode="json", exclude_none=True) | {"due": stamp(batch.due)}


def _records(docs: Sequence[dict[str, Any]]) -> list[HeldBatch]:
    return [HeldBatch.model_validate(doc) for doc in docs]


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
