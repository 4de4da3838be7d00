"""Group commit for one collection: inserts-if-absent and replacements that arrive while the
store is busy with the previous write go together in the next one.

One round trip per write (a thread hop and a commit with SQLite, a network round trip with
MongoDB) makes the store the bottleneck of a service that writes per message; grouped, many
writers share each round trip. Each caller still waits until its own write is durable, or
raises why it is not, so "record, then act" holds.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from siaran_shared.store.base import Collection
from siaran_shared.store.query import Doc

_T = TypeVar("_T")


class GroupWriter:
    """Inserts-if-absent and replacements of one collection, grouped per round trip."""

    def __init__(self, docs: Collection, *, max_batch: int = 1000) -> None:
        self._docs = docs
        self._max_batch = max_batch
        self._inserts: dict[str, tuple[Doc, list[asyncio.Future[bool]]]] = {}
        self._puts: dict[str, tuple[Doc, list[asyncio.Future[None]]]] = {}
        self._flusher: asyncio.Task[None] | None = None
        #: held during each round trip: a caller's other calls on the collection may take it
        #: too, so that they never run between a group's read and write
        self.lock = asyncio.Lock()

    async def insert(self, key: str, doc: Doc) -> bool:
        """Create the document unless its key exists; False if it did (or another insert of
        the same key in the same group came first)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        pending = self._inserts.get(key)
        if pending is None:
            self._inserts[key] = (doc, [future])
        else:
            pending[1].append(future)  # the first insert of the key wins, the others lose
        return await self._wait(future)

    async def put(self, key: str, doc: Doc) -> None:
        """Create or replace the document; returns once it is stored. A later write of the
        same key in the same group wins, as it would one at a time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._puts.pop(key, (doc, []))[1]  # re-added: the latest write goes last
        self._puts[key] = (doc, [*waiters, future])
        await self._wait(future)

    async def _wait(self, future: asyncio.Future[_T]) -> _T:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain(), name="group-writes")
        # A caller cancelled meanwhile leaves its write in the group: the others share it.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._inserts or self._puts:
            await asyncio.sleep(0)  # let the tasks woken in this tick add theirs too
            inserts = _take(self._inserts, self._max_batch)
            puts = _take(self._puts, self._max_batch)
            if inserts:
                await self._insert(inserts)
            if puts:
                await self._put(puts)

    async def _insert(self, inserts: dict[str, tuple[Doc, list[asyncio.Future[bool]]]]) -> None:
        try:
            async with self.lock:
                won = await self._docs.insert_many({k: doc for k, (doc, _) in inserts.items()})
        except Exception as exc:  # every waiter sees the failure and may retry its write
            _fail([f for _, futures in inserts.values() for f in futures], exc)
            return
        for key, (_, (first, *others)) in inserts.items():
            _answer(first, key in won)
            for future in others:
                _answer(future, False)

    async def _put(self, puts: dict[str, tuple[Doc, list[asyncio.Future[None]]]]) -> None:
        waiters = [f for _, futures in puts.values() for f in futures]
        try:
            async with self.lock:
                await self._docs.put_many({k: doc for k, (doc, _) in puts.items()})
        except Exception as exc:
            _fail(waiters, exc)
            return
        for future in waiters:
            _answer(future, None)


def _take(pending: dict[str, Any], most: int) -> dict[str, Any]:
    taken = dict(list(pending.items())[:most])
    for key in taken:
        del pending[key]
    return taken


def _answer(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(futures: list[asyncio.Future[Any]], exc: Exception) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when its caller was cancelled
