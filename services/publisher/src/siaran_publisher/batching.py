"""Group commit for the claims: claim inserts and outcome writes that arrive while the store
is busy with the previous write go together in the next one.

Every delivery writes its claim before it is sent and its outcome after. One round trip per
write (a thread hop and a commit with SQLite, a network round trip with MongoDB) made the
store the publisher's bottleneck; grouped, many deliveries share each round trip. Callers
still wait until their own write is durable, so "claim before send, outcome after" holds:
nothing is sent on a claim that is not stored yet.
"""

from __future__ import annotations

import asyncio
from typing import Any

from siaran_shared.store import Collection

Doc = dict[str, Any]


class WriteBatcher:
    """Inserts-if-absent and replacements of one collection, grouped per round trip."""

    def __init__(self, docs: Collection, *, max_batch: int = 1000) -> None:
        self._docs = docs
        self._max_batch = max_batch
        self._inserts: dict[str, tuple[Doc, list[asyncio.Future[bool]]]] = {}
        self._puts: dict[str, Doc] = {}
        self._put_waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: held during each round trip; other calls of the collection may take it too
        self.lock = asyncio.Lock()

    async def insert(self, key: str, doc: Doc) -> bool:
        """Create the document unless its key exists; False if it did (or another insert
        of the same key in the same group came first)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        pending = self._inserts.get(key)
        if pending is None:
            self._inserts[key] = (doc, [future])
        else:
            pending[1].append(future)  # the first insert of the key wins, the others lose
        self._kick()
        return await future

    async def put(self, key: str, doc: Doc) -> None:
        """Create or replace the document; returns once it is stored."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._puts[key] = doc  # a later write of the same key in one group wins, as in order
        self._put_waiters.append(future)
        self._kick()
        await future

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain(), name="claims-writes")

    async def _drain(self) -> None:
        while self._inserts or self._puts:
            await asyncio.sleep(0)  # let the tasks woken in this tick add theirs too
            inserts = dict(list(self._inserts.items())[: self._max_batch])
            for key in inserts:
                del self._inserts[key]
            puts, self._puts = self._puts, {}
            waiters, self._put_waiters = self._put_waiters, []
            if inserts:
                await self._insert(inserts)
            if puts:
                await self._put(puts, waiters)

    async def _insert(self, inserts: dict[str, tuple[Doc, list[asyncio.Future[bool]]]]) -> None:
        try:
            async with self.lock:
                won = await self._docs.insert_many({k: doc for k, (doc, _) in inserts.items()})
        except Exception as exc:  # every waiter sees the failure and retries its record
            for _, futures in inserts.values():
                _fail(futures, exc)
            return
        for key, (_, futures) in inserts.items():
            first, *others = futures
            if not first.done():
                first.set_result(key in won)
            for future in others:
                if not future.done():
                    future.set_result(False)

    async def _put(self, puts: dict[str, Doc], waiters: list[asyncio.Future[None]]) -> None:
        try:
            async with self.lock:
                await self._docs.put_many(puts)
        except Exception as exc:
            _fail(waiters, exc)
            return
        for future in waiters:
            if not future.done():
                future.set_result(None)


def _fail(futures: list[Any], exc: Exception) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)


class Serialised:
    """The calls of a collection the claims make outside the batcher, one at a time with
    the batcher's round trips (see Claims)."""

    def __init__(self, docs: Collection, lock: asyncio.Lock) -> None:
        self._docs = docs
        self._lock = lock

    async def get(self, key: str) -> Doc | None:
        async with self._lock:
            return await self._docs.get(key)

    async def insert(self, key: str, doc: Doc) -> bool:
        async with self._lock:
            return await self._docs.insert(key, doc)

    async def update(self, key: str, changes: Doc, *, where: Doc | None = None) -> bool:
        async with self._lock:
            return await self._docs.update(key, changes, where=where)

    async def find(self, where: Doc, *, order_by: str | None = None,
                   limit: int | None = None) -> list[Doc]:  # fmt: skip
        async with self._lock:
            return await self._docs.find(where, order_by=order_by, limit=limit)
