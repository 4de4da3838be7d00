"""SQLite implementation of the store (the embedded default): one file, WAL mode.

Documents are stored as JSON text (non-ASCII as it is), written and read by orjson. It
refuses what MongoDB refuses too, keys that are not strings and integers beyond 64 bits,
where the standard library quietly made an integer key a string and wrote any integer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from siaran_shared.store.base import Collection, Expiry, Store, StoreUnavailable
from siaran_shared.store.sqlite_collection import SQLiteCollection


class SQLiteStore(Store):
    """A store in one SQLite file (WAL mode), for local runs and tests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._collections: dict[str, SQLiteCollection] = {}
        self.lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable(f"SQLite store {self.path} is not connected")
        return self._db

    async def connect(self) -> None:
        if self._db is not None:
            return
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = await aiosqlite.connect(self.path)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.execute("PRAGMA busy_timeout=5000")
            async with self.lock:
                for collection in self._collections.values():
                    await collection.prepare(self._db)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> None:
        """Check the file can be written now, on a connection of its own (so a probe never
        interleaves with this store's transactions), waiting at most a second for locks."""
        try:
            async with self.db.execute("SELECT 1") as cur:
                await cur.fetchone()
            await asyncio.to_thread(self._write_probe)
        except (sqlite3.Error, ValueError) as exc:
            raise StoreUnavailable(f"SQLite store {self.path} cannot be written: {exc}") from exc

    def _write_probe(self) -> None:
        if str(self.path) == ":memory:":
            return
        probe = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        finally:
            probe.close()

    def collection(
        self, name: str, indexes: Sequence[str] = (), *, expiry: Expiry | None = None
    ) -> Collection:
        if name not in self._collections:
            self._collections[name] = SQLiteCollection(self, name, indexes, expiry)
        return self._collections[name]

    def collections(self) -> Sequence[Collection]:
        return list(self._collections.values())
