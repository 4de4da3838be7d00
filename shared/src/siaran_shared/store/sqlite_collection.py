"""A collection of the SQLite store: one table of (key, JSON document, expiry time).

Every operation runs alone on the store's one connection and rolls back what it began if it
fails; `sqlite_query` turns queries into SQL.
"""

# ruff: noqa: S608  (table names are validated identifiers; values are bound parameters)
from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import aiosqlite
import orjson

from siaran_shared.store.base import Collection, Expiry, StoreError, StoreUnavailable
from siaran_shared.store.query import Doc, Where, add_deltas, matches
from siaran_shared.store.sqlite_query import json_path, json_type, where_sql

if TYPE_CHECKING:
    from siaran_shared.store.sqlite import SQLiteStore

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PRUNE_CHUNK = 5000  # documents removed per transaction
_CHUNK = 400  # keys per statement: well under SQLite's bound-variable limit
#: Seconds since the epoch of an ISO-8601 time, in SQL (for rows written before the column).
_EPOCH_SQL = "(julianday({}) - 2440587.5) * 86400.0"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serialised(
    method: Callable[
        Concatenate[SQLiteCollection, aiosqlite.Connection, _P], Coroutine[Any, Any, _R]
    ],
) -> Callable[Concatenate[SQLiteCollection, _P], Coroutine[Any, Any, _R]]:
    """Run a collection operation alone on the store's one connection: a statement, its
    cursor and its commit never interleave with another coroutine's (SQLite refuses a commit
    while another statement is in progress, and an update's read-then-write must be atomic).
    A failure rolls back what the operation began and is raised as the store's own error."""

    @functools.wraps(method)
    async def locked(self: SQLiteCollection, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        async with self._store.lock:
            db = await self._db()
            try:
                return await method(self, db, *args, **kwargs)
            except BaseException as exc:
                if db.in_transaction:
                    await db.rollback()
                if isinstance(exc, sqlite3.OperationalError):  # locked, busy, disk I/O
                    raise StoreUnavailable(f"SQLite store {self._store.path}: {exc}") from exc
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"SQLite store {self._store.path}: {exc}") from exc
                raise

    return locked


class SQLiteCollection(Collection):
    def __init__(
        self, store: SQLiteStore, name: str, indexes: Sequence[str], expiry: Expiry | None
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"invalid collection name {name!r}")
        self.name = name
        self.expiry = expiry
        self._store = store
        self._indexes = tuple(indexes)
        for field in self._indexes:
            json_path(field)  # refuse a bad index name now, not at first use
        self._ready = False

    async def _db(self) -> aiosqlite.Connection:
        db = self._store.db
        if not self._ready:
            await self.prepare(db)
        return db

    async def prepare(self, db: aiosqlite.Connection) -> None:
        """Create the table and its indexes (and the expiry column of an older table)."""
        await db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.name} "
            "(key TEXT PRIMARY KEY, doc TEXT NOT NULL, final_at REAL)"
        )
        columns = {row[1] for row in await db.execute_fetchall(f"PRAGMA table_info({self.name})")}
        if "final_at" not in columns:
            await db.execute(f"ALTER TABLE {self.name} ADD COLUMN final_at REAL")
            if self.expiry is not None:  # rows written before: their expiry from their field
                epoch = _EPOCH_SQL.format(json_path(self.expiry.field))
                await db.execute(f"UPDATE {self.name} SET final_at = {epoch}")
        for field in self._indexes:
            index = f"ix_{self.name}_{field.replace('.', '_')}"
            await db.execute(
                f"CREATE INDEX IF NOT EXISTS {index} ON {self.name} ({json_path(field)})"
            )
        if self.expiry is not None:
            await db.execute(
                f"CREATE INDEX IF NOT EXISTS ix_{self.name}__final_at ON {self.name} (final_at)"
            )
        await db.commit()
        self._ready = True

    def _row(self, key: str, doc: Doc) -> tuple[str, str, float | None]:
        at = self.expiry.final_time(doc) if self.expiry else None
        return key, _dumps(doc), at.timestamp() if at else None

    @_serialised
    async def get(self, db: aiosqlite.Connection, key: str) -> Doc | None:
        rows = await db.execute_fetchall(f"SELECT doc FROM {self.name} WHERE key = ?", (key,))
        return next((orjson.loads(doc) for (doc,) in rows), None)

    @_serialised
    async def get_many(self, db: aiosqlite.Connection, keys: Sequence[str]) -> dict[str, Doc]:
        return await self._fetch(db, keys)

    async def _fetch(self, db: aiosqlite.Connection, keys: Sequence[str]) -> dict[str, Doc]:
        found: dict[str, Doc] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, doc FROM {self.name} WHERE key IN ({marks})"
            for key, doc in await db.execute_fetchall(sql, chunk):
                found[key] = orjson.loads(doc)
        return found

    @_serialised
    async def _put_many(self, db: aiosqlite.Connection, docs: Mapping[str, Doc]) -> None:
        rows = [self._row(k, v) for k, v in docs.items()]
        await db.executemany(
            f"INSERT INTO {self.name} (key, doc, final_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET doc = excluded.doc, final_at = excluded.final_at",
            rows,
        )
        await db.commit()

    @_serialised
    async def _insert_many(self, db: aiosqlite.Connection, docs: Mapping[str, Doc]) -> set[str]:
        inserted: set[str] = set()
        rows = [self._row(k, v) for k, v in docs.items()]
        for start in range(0, len(rows), _CHUNK // 3):
            chunk = rows[start : start + _CHUNK // 3]
            sql = (
                f"INSERT INTO {self.name} (key, doc, final_at) "
                f"VALUES {','.join(['(?, ?, ?)'] * len(chunk))} "
                "ON CONFLICT(key) DO NOTHING RETURNING key"
            )
            won = await db.execute_fetchall(sql, [v for row in chunk for v in row])
            inserted.update(key for (key,) in won)
        await db.commit()
        return inserted

    @_serialised
    async def _update(
        self, db: aiosqlite.Connection, key: str, changes: Mapping[str, Any], where: Where | None
    ) -> bool:
        rows = await db.execute_fetchall(f"SELECT doc FROM {self.name} WHERE key = ?", (key,))
        doc = next((orjson.loads(doc) for (doc,) in rows), None)
        if doc is None or not matches(doc, where):
            return False
        doc.update(changes)
        _, text, final_at = self._row(key, doc)
        await db.execute(
            f"UPDATE {self.name} SET doc = ?, final_at = ? WHERE key = ?", (text, final_at, key)
        )
        await db.commit()
        return True

    @_serialised
    async def _increment_many(
        self, db: aiosqlite.Connection, deltas_by_key: Mapping[str, Mapping[str, int]]
    ) -> set[str]:
        # A read-modify-write under the store's lock (as `update`): every document is changed
        # in memory first, so a field that is not a number refuses the whole call, then all
        # are written in one transaction. Numbers never hold the expiry time, so its column
        # stays as it is.
        docs = await self._fetch(db, list(deltas_by_key))
        changed = {key: doc for key, doc in docs.items() if deltas_by_key[key]}
        for key, doc in changed.items():
            add_deltas(doc, deltas_by_key[key])
        if changed:
            await db.executemany(
                f"UPDATE {self.name} SET doc = ? WHERE key = ?",
                [(_dumps(doc), key) for key, doc in changed.items()],
            )
            await db.commit()
        return set(docs)

    @_serialised
    async def _delete(self, db: aiosqlite.Connection, key: str) -> bool:
        cur = await db.execute(f"DELETE FROM {self.name} WHERE key = ?", (key,))
        await db.commit()
        return cur.rowcount == 1

    @_serialised
    async def _find(
        self,
        db: aiosqlite.Connection,
        where: Where | None,
        order_by: str | None,
        descending: bool,
        limit: int | None,
    ) -> list[Doc]:
        clause, params = where_sql(where)
        sql = f"SELECT doc FROM {self.name} WHERE {clause}"
        if order_by:
            direction = "DESC" if descending else "ASC"
            sql += f" ORDER BY {json_path(order_by)} {direction}, key {direction}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [orjson.loads(doc) for (doc,) in await db.execute_fetchall(sql, params)]

    @_serialised
    async def _count(self, db: aiosqlite.Connection, where: Where | None) -> int:
        clause, params = where_sql(where)
        sql = f"SELECT COUNT(*) FROM {self.name} WHERE {clause}"
        return sum(int(n) for (n,) in await db.execute_fetchall(sql, params))

    @_serialised
    async def _count_by(
        self, db: aiosqlite.Connection, field: str, where: Where | None
    ) -> dict[Any, int]:
        clause, params = where_sql(where)
        # json_extract gives true and false as 1 and 0: json_type tells them apart.
        sql = (
            f"SELECT {json_type(field)}, {json_path(field)}, COUNT(*) FROM {self.name} "
            f"WHERE {clause} GROUP BY 1, 2"
        )
        counts: dict[Any, int] = {}
        for kind, value, n in await db.execute_fetchall(sql, params):
            if kind in ("object", "array"):
                raise ValueError(f"count_by {field!r}: values must be scalars, not {kind}s")
            key = {"true": True, "false": False}.get(kind, value)
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    async def prune(self, now: datetime) -> int:
        """Remove expired documents PRUNE_CHUNK at a time, each chunk its own transaction, so
        a large first prune never holds the store from the service's own writes for long."""
        if self.expiry is None:
            return 0
        cutoff = self.expiry.cutoff(now).timestamp()
        removed = 0
        while True:
            chunk = await self._prune_chunk(cutoff)
            removed += chunk
            if chunk < PRUNE_CHUNK:
                return removed

    @_serialised
    async def _prune_chunk(self, db: aiosqlite.Connection, cutoff: float) -> int:
        cur = await db.execute(
            f"DELETE FROM {self.name} WHERE key IN "
            f"(SELECT key FROM {self.name} WHERE final_at < ? LIMIT ?)",
            (cutoff, PRUNE_CHUNK),
        )
        await db.commit()
        return max(cur.rowcount, 0)
