"""MongoDB implementation of the store on PyMongo's async API (AsyncMongoClient).

Production runs MongoDB as a replica set (one member locally), which this store requires:
writes are acknowledged by a majority and journaled, reads see majority-committed data, and
the writes of many documents that SQLite does in one transaction are one transaction here
too. Indexes (and the TTL index of a collection with an expiry) are made at connect. Every
PyMongo error reaches the caller as StoreUnavailable (retry later) or StoreError.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import pymongo
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from siaran_shared.store.base import (
    FINAL_AT,
    Collection,
    Expiry,
    Store,
    StoreUnavailable,
)
from siaran_shared.store.mongo_query import client_options, mongo_filter, store_error
from siaran_shared.store.query import Doc, Where

TTL_INDEX = "siaran_expiry"
PING_SECONDS = 2.0
_INDEX_OPTIONS_CONFLICT = (85, 86)
_INSERT_TRIES = 3
_HIDDEN = {FINAL_AT: 0}  # projection: the expiry time stays inside the store
_P = ParamSpec("_P")
_R = TypeVar("_R")
_Coll = AsyncCollection[dict[str, Any]]


def _mapped(
    method: Callable[Concatenate[MongoCollection, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[MongoCollection, _P], Coroutine[Any, Any, _R]]:
    """Raise PyMongo's errors as the store's own."""

    @functools.wraps(method)
    async def mapped(self: MongoCollection, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await method(self, *args, **kwargs)
        except (PyMongoError, BSONError) as exc:
            raise store_error(exc) from exc

    return mapped


def _strip(doc: Mapping[str, Any]) -> Doc:
    return {k: v for k, v in doc.items() if k != "_id"}


class MongoCollection(Collection):
    def __init__(
        self, store: MongoStore, name: str, indexes: Sequence[str], expiry: Expiry | None
    ) -> None:
        self.name = name
        self.expiry = expiry
        self._store = store
        self._indexes = tuple(indexes)
        self._ready = False

    async def prepare(self) -> None:
        """Create the indexes, and the TTL index that removes expired documents."""
        coll = self._store.database[self.name]
        for field in self._indexes:
            await coll.create_index([(field, ASCENDING)])
        if self.expiry is not None:
            seconds = int(self.expiry.after.total_seconds())
            try:
                await coll.create_index(
                    [(FINAL_AT, ASCENDING)], name=TTL_INDEX, expireAfterSeconds=seconds
                )
            except OperationFailure as exc:  # the retention changed: change the index
                if exc.code not in _INDEX_OPTIONS_CONFLICT:
                    raise
                index = {"name": TTL_INDEX, "expireAfterSeconds": seconds}
                await self._store.database.command({"collMod": self.name, "index": index})
        self._ready = True

    async def _coll(self) -> _Coll:
        if not self._ready:  # made after connect: its indexes now, once
            await self.prepare()
        return self._store.database[self.name]

    def _stored(self, key: str, doc: Doc) -> Doc:
        if self.expiry is None:
            return {"_id": key, **doc}
        return {"_id": key, **doc, FINAL_AT: self.expiry.final_time(doc)}

    @_mapped
    async def get(self, key: str) -> Doc | None:
        doc = await (await self._coll()).find_one({"_id": key}, _HIDDEN)
        return _strip(doc) if doc else None

    @_mapped
    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        found = (await self._coll()).find({"_id": {"$in": list(keys)}}, _HIDDEN)
        return {d["_id"]: _strip(d) async for d in found}

    @_mapped
    async def _put_many(self, docs: Mapping[str, Doc]) -> None:
        coll = await self._coll()
        if len(docs) == 1:
            [(key, doc)] = docs.items()
            await coll.replace_one({"_id": key}, self._stored(key, doc), upsert=True)
            return
        ops = [ReplaceOne({"_id": k}, self._stored(k, v), upsert=True) for k, v in docs.items()]

        async def write(session: AsyncClientSession | None) -> None:
            await coll.bulk_write(ops, ordered=True, session=session)

        await self._store.atomically(write, len(ops))

    @_mapped
    async def _insert_many(self, docs: Mapping[str, Doc]) -> set[str]:
        coll = await self._coll()
        if len(docs) == 1:
            [(key, doc)] = docs.items()
            try:
                await coll.insert_one(self._stored(key, doc))
            except DuplicateKeyError:
                return set()
            return {key}

        async def write(session: AsyncClientSession | None) -> set[str]:
            # Inside the transaction: a key taken meanwhile is a write conflict, and the
            # transaction runs again from the read.
            taken = coll.find({"_id": {"$in": list(docs)}}, {"_id": 1}, session=session)
            existing = {d["_id"] async for d in taken}
            fresh = [self._stored(k, v) for k, v in docs.items() if k not in existing]
            if fresh:
                await coll.insert_many(fresh, ordered=True, session=session)
            return set(docs) - existing

        for _ in range(_INSERT_TRIES - 1):
            try:
                return await self._store.atomically(write, len(docs))
            except DuplicateKeyError:  # inserted by a write outside any transaction: again
                continue
        return await self._store.atomically(write, len(docs))

    @_mapped
    async def _update(self, key: str, changes: Mapping[str, Any], where: Where | None) -> bool:
        sets = dict(changes)
        if self.expiry is not None and self.expiry.touched_by(changes):
            sets[FINAL_AT] = self.expiry.final_time(changes)
        query = mongo_filter(where)
        result = await (await self._coll()).update_one(
            {"$and": [{"_id": key}, query]} if query else {"_id": key}, {"$set": sets}
        )
        return result.matched_count == 1

    @_mapped
    async def _increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        coll = await self._coll()
        ops = [UpdateOne({"_id": k}, {"$inc": dict(d)}) for k, d in deltas_by_key.items() if d]

        async def write(session: AsyncClientSession | None) -> set[str]:
            if ops:
                result = await coll.bulk_write(ops, ordered=True, session=session)
                if result.matched_count == len(ops) == len(deltas_by_key):
                    return set(deltas_by_key)
            # The bulk result counts the matches without naming them: ask which keys exist.
            found = coll.find({"_id": {"$in": list(deltas_by_key)}}, {"_id": 1}, session=session)
            return {d["_id"] async for d in found}

        return await self._store.atomically(write, len(ops))

    @_mapped
    async def _delete(self, key: str) -> bool:
        result = await (await self._coll()).delete_one({"_id": key})
        return result.deleted_count == 1

    @_mapped
    async def _find(
        self, where: Where | None, order_by: str | None, descending: bool, limit: int | None
    ) -> list[Doc]:
        cursor = (await self._coll()).find(mongo_filter(where), _HIDDEN)
        if order_by:
            direction = DESCENDING if descending else ASCENDING
            cursor = cursor.sort([(order_by, direction), ("_id", direction)])
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_strip(d) async for d in cursor]

    @_mapped
    async def _count(self, where: Where | None) -> int:
        return await (await self._coll()).count_documents(mongo_filter(where))

    @_mapped
    async def _count_by(self, field: str, where: Where | None) -> dict[Any, int]:
        pipeline = [
            {"$match": mongo_filter(where)},
            {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
        ]
        counts: dict[Any, int] = {}
        async for row in await (await self._coll()).aggregate(pipeline):
            value = row["_id"]
            if isinstance(value, (dict, list)):
                kind = "object" if isinstance(value, dict) else "array"
                raise ValueError(f"count_by {field!r}: values must be scalars, not {kind}s")
            counts[value] = counts.get(value, 0) + int(row["n"])
        return counts

    @_mapped
    async def prune(self, now: datetime) -> int:
        if self.expiry is None:
            return 0
        cutoff = self.expiry.cutoff(now)
        result = await (await self._coll()).delete_many({FINAL_AT: {"$lt": cutoff}})
        return result.deleted_count


class MongoStore(Store):
    """A store in one MongoDB database (one per service on a shared cluster)."""

    def __init__(self, url: str, database: str) -> None:
        try:
            self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                url, **client_options(url, database.replace("_", "-"))
            )
        except PyMongoError as exc:  # a URL it cannot read: a setting to fix, not an outage
            raise ValueError(f"SIARAN_STORE_URL: {exc}") from exc
        self._db_name = database
        self._collections: dict[str, MongoCollection] = {}

    @property
    def database(self) -> AsyncDatabase[dict[str, Any]]:
        return self._client[self._db_name]

    async def connect(self) -> None:
        """Check the server is a replica set member (transactions need one), then create
        the indexes of the collections made so far."""
        try:
            hello = await self._client.admin.command("hello")
            if not hello.get("setName") and hello.get("msg") != "isdbgrid":
                raise StoreUnavailable(
                    "MongoDB must run as a replica set (one member is enough): the store "
                    "writes many documents in one transaction"
                )
            for collection in self._collections.values():
                await collection.prepare()
        except (PyMongoError, BSONError) as exc:
            raise store_error(exc) from exc

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        """Answer within PING_SECONDS (a readiness probe must not wait out timeoutMS)."""
        try:
            with pymongo.timeout(PING_SECONDS):
                await self._client.admin.command("ping")
        except PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB is not reachable: {exc}") from exc

    async def atomically(
        self, write: Callable[[AsyncClientSession | None], Awaitable[_R]], documents: int
    ) -> _R:
        """Run `write` in a transaction when it touches more than one document (retried
        whole on a transient error, within the client's timeoutMS); alone otherwise."""
        if documents <= 1:
            return await write(None)
        async with self._client.start_session() as session:
            return await session.with_transaction(write)

    def collection(
        self, name: str, indexes: Sequence[str] = (), *, expiry: Expiry | None = None
    ) -> Collection:
        if name not in self._collections:
            self._collections[name] = MongoCollection(self, name, indexes, expiry)
        return self._collections[name]

    def collections(self) -> Sequence[Collection]:
        return list(self._collections.values())
