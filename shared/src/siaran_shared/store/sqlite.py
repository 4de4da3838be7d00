"""SQLite implementation of the store (the embedded default): one file, WAL mode.

Documents are stored as JSON text (non-ASCII as it is), written and read by orjson. It
refuses what MongoDB refuses too, keys that are not strings and integers beyond 64 bits,
where the standard library quietly made an integer key a string and wrote any integer.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import orjson

from siaran_shared.store.base import (
    FIELD_NAME,
    Collection,
    Doc,
    Store,
    StoreUnavailable,
    Where,
    add_deltas,
    matches,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPS = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_CHUNK = 500  # keys per IN (...): well under SQLite's bound-variable limit


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _checked(field: str) -> str:
    if not FIELD_NAME.match(field):
        raise ValueError(f"invalid field name {field!r}")
    return field


def _json_path(field: str) -> str:
    return f"json_extract(doc, '$.{_checked(field)}')"


def _json_type(field: str) -> str:
    return f"json_type(doc, '$.{_checked(field)}')"


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return _dumps(value)
    return value


def _where_sql(where: Where | None) -> tuple[str, list[Any]]:
    """Translate a query to SQL over json_extract; `matches` is the reference semantics."""
    if not where:
        return "1", []
    clauses: list[str] = []
    params: list[Any] = []
    for field, cond in where.items():
        if field == "$or":
            subs = [_where_sql(sub) for sub in cond]
            clauses.append("(" + " OR ".join(f"({s})" for s, _ in subs) + ")")
            for _, p in subs:
                params.extend(p)
            continue
        path = _json_path(field)
        if isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
            for op, arg in cond.items():
                if op in _OPS:
                    clauses.append(f"{path} {_OPS[op]} ?")
                    params.append(_sql_value(arg))
                elif op == "$ne":
                    clauses.append(f"({path} IS NULL OR {path} != ?)")
                    params.append(_sql_value(arg))
                elif op == "$in":
                    values = list(arg)
                    if not values:
                        clauses.append("0")
                    else:
                        clauses.append(f"{path} IN ({','.join('?' * len(values))})")
                        params.extend(_sql_value(v) for v in values)
                else:
                    raise ValueError(f"unsupported query operator {op}")
        elif cond is None:
            clauses.append(f"{path} IS NULL")
        else:
            clauses.append(f"{path} = ?")
            params.append(_sql_value(cond))
    return " AND ".join(clauses), params


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def _serialised(method: _F) -> _F:
    """Run a collection operation alone on the store's one connection: a statement, its
    cursor and its commit never interleave with another coroutine's (SQLite refuses a commit
    while another statement is in progress, and an update's read-then-write must be atomic)."""

    @functools.wraps(method)
    async def locked(self: SQLiteCollection, *args: Any, **kwargs: Any) -> Any:
        async with self._store.lock:
            return await method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


class SQLiteCollection(Collection):
    def __init__(self, store: SQLiteStore, name: str, indexes: Sequence[str]) -> None:
        if not _NAME.match(name):
            raise ValueError(f"invalid collection name {name!r}")
        self.name = name
        self._store = store
        self._indexes = tuple(indexes)
        self._ready = False

    async def _db(self) -> aiosqlite.Connection:
        db = self._store.db
        if not self._ready:
            await db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.name} (key TEXT PRIMARY KEY, doc TEXT NOT NULL)"
            )
            for field in self._indexes:
                index = f"ix_{self.name}_{field.replace('.', '_')}"
                await db.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {self.name} ({_json_path(field)})"
                )
            await db.commit()
            self._ready = True
        return db

    @_serialised
    async def get(self, key: str) -> Doc | None:
        db = await self._db()
        rows = await db.execute_fetchall(f"SELECT doc FROM {self.name} WHERE key = ?", (key,))
        return next((orjson.loads(doc) for (doc,) in rows), None)

    @_serialised
    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        return await self._fetch(await self._db(), keys)

    async def _fetch(self, db: aiosqlite.Connection, keys: Sequence[str]) -> dict[str, Doc]:
        found: dict[str, Doc] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, doc FROM {self.name} WHERE key IN ({marks})"
            for key, doc in await db.execute_fetchall(sql, chunk):
                found[key] = orjson.loads(doc)
        return found

    async def put(self, key: str, doc: Doc) -> None:
        await self.put_many({key: doc})

    @_serialised
    async def put_many(self, docs: Mapping[str, Doc]) -> None:
        if not docs:
            return
        db = await self._db()
        await db.executemany(
            f"INSERT INTO {self.name} (key, doc) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
            [(k, _dumps(v)) for k, v in docs.items()],
        )
        await db.commit()

    @_serialised
    async def insert(self, key: str, doc: Doc) -> bool:
        db = await self._db()
        cur = await db.execute(
            f"INSERT INTO {self.name} (key, doc) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
            (key, _dumps(doc)),
        )
        await db.commit()
        return cur.rowcount == 1

    @_serialised
    async def insert_many(self, docs: Mapping[str, Doc]) -> set[str]:
        if not docs:
            return set()
        db = await self._db()
        inserted: set[str] = set()
        rows = [(k, _dumps(v)) for k, v in docs.items()]
        for start in range(0, len(rows), 400):  # well under SQLite's bound-variable limit
            chunk = rows[start : start + 400]
            sql = (
                f"INSERT INTO {self.name} (key, doc) VALUES {','.join(['(?, ?)'] * len(chunk))} "
                "ON CONFLICT(key) DO NOTHING RETURNING key"
            )
            won = await db.execute_fetchall(sql, [v for row in chunk for v in row])
            inserted.update(key for (key,) in won)
        await db.commit()
        return inserted

    @_serialised
    async def update(
        self, key: str, changes: Mapping[str, Any], *, where: Where | None = None
    ) -> bool:
        db = await self._db()
        rows = await db.execute_fetchall(f"SELECT doc FROM {self.name} WHERE key = ?", (key,))
        doc = next((orjson.loads(doc) for (doc,) in rows), None)
        if doc is None or not matches(doc, where):
            return False
        doc.update(changes)
        await db.execute(f"UPDATE {self.name} SET doc = ? WHERE key = ?", (_dumps(doc), key))
        await db.commit()
        return True

    @_serialised
    async def _increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        # A read-modify-write under the store's lock (as `update`): every document is changed
        # in memory first, so a field that is not a number refuses the whole call, then all
        # are written in one transaction.
        db = await self._db()
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
    async def delete(self, key: str) -> bool:
        db = await self._db()
        cur = await db.execute(f"DELETE FROM {self.name} WHERE key = ?", (key,))
        await db.commit()
        return cur.rowcount == 1

    @_serialised
    async def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        db = await self._db()
        clause, params = _where_sql(where)
        sql = f"SELECT doc FROM {self.name} WHERE {clause}"
        if order_by:
            sql += f" ORDER BY {_json_path(order_by)} {'DESC' if descending else 'ASC'}, key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [orjson.loads(doc) for (doc,) in await db.execute_fetchall(sql, params)]

    @_serialised
    async def count(self, where: Where | None = None) -> int:
        db = await self._db()
        clause, params = _where_sql(where)
        sql = f"SELECT COUNT(*) FROM {self.name} WHERE {clause}"
        return sum(int(n) for (n,) in await db.execute_fetchall(sql, params))

    @_serialised
    async def count_by(self, field: str, where: Where | None = None) -> dict[Any, int]:
        db = await self._db()
        clause, params = _where_sql(where)
        # json_extract gives true and false as 1 and 0: json_type tells them apart.
        sql = (
            f"SELECT {_json_type(field)}, {_json_path(field)}, COUNT(*) FROM {self.name} "
            f"WHERE {clause} GROUP BY 1, 2"
        )
        counts: dict[Any, int] = {}
        for kind, value, n in await db.execute_fetchall(sql, params):
            if kind in ("object", "array"):
                raise ValueError(f"count_by {field!r}: values must be scalars, not {kind}s")
            key = {"true": True, "false": False}.get(kind, value)
            counts[key] = counts.get(key, 0) + int(n)
        return counts


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

    def collection(self, name: str, indexes: Sequence[str] = ()) -> Collection:
        if name not in self._collections:
            self._collections[name] = SQLiteCollection(self, name, indexes)
        return self._collections[name]
