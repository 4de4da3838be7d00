"""The claims' calls outside their group writer (siaran_shared.store.GroupWriter, which
groups claim inserts and outcome writes per round trip), one at a time with its round trips.
"""

from __future__ import annotations

import asyncio
from typing import Any

from siaran_shared.store import Collection

Doc = dict[str, Any]


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
