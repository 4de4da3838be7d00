"""MongoDB implementation of the store on PyMongo's async API (AsyncMongoClient)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from siaran_shared.store.base import (
    FIELD_NAME,
    Collection,
    Doc,
    Store,
    StoreUnavailable,
    Where,
    check_deltas,
)

_DUPLICATE_KEY = 11000


def _query(where: Where | None) -> dict[str, Any]:
    """Our query subset is MongoDB's own, except that None also matches a missing field."""
    if not where:
        return {}
    out: dict[str, Any] = {}
    for field, cond in where.items():
        if field == "$or":
            out["$or"] = [_query(sub) for sub in cond]
        elif isinstance(cond, Mapping) and "$in" in cond:
            out[field] = {**cond, "$in": list(cond["$in"])}
        else:
            out[field] = cond
    return out


def _strip(doc: Mapping[str, Any]) -> Doc:
    return {k: v for k, v in doc.items() if k != "_id"}


class MongoCollection(Collection):
    def __init__(self, store: MongoStore, name: str, indexes: Sequence[str]) -> None:
        self.name = name
        self._store = store
        self._indexes = tuple(indexes)
        self._ready = False

    async def _coll(self) -> AsyncCollection[dict[str, Any]]:
        coll = self._store.database[self.name]
        if not self._ready:
            for field in self._indexes:
                await coll.create_index([(field, ASCENDING)])
            self._ready = True
        return coll

    async def get(self, key: str) -> Doc | None:
        doc = await (await self._coll()).find_one({"_id": key})
        return _strip(doc) if doc else None

    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        coll = await self._coll()
        return {d["_id"]: _strip(d) async for d in coll.find({"_id": {"$in": list(keys)}})}

    async def put(self, key: str, doc: Doc) -> None:
        await (await self._coll()).replace_one({"_id": key}, doc, upsert=True)

    async def put_many(self, docs: Mapping[str, Doc]) -> None:
        if docs:
            ops = [ReplaceOne({"_id": k}, v, upsert=True) for k, v in docs.items()]
            await (await self._coll()).bulk_write(ops, ordered=False)

    async def insert(self, key: str, doc: Doc) -> bool:
        try:
            await (await self._coll()).insert_one({"_id": key, **doc})
        except DuplicateKeyError:
            return False
        return True

    async def insert_many(self, docs: Mapping[str, Doc]) -> set[str]:
        if not docs:
            return set()
        keys = list(docs)
        try:
            await (await self._coll()).insert_many(
                [{"_id": k, **v} for k, v in docs.items()], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            return set(keys) - {keys[e["index"]] for e in errors}
        return set(keys)

    async def update(
        self, key: str, changes: Mapping[str, Any], *, where: Where | None = None
    ) -> bool:
        result = await (await self._coll()).update_one(
            {"_id": key, **_query(where)}, {"$set": dict(changes)}
        )
        return result.matched_count == 1

    async def increment(self, key: str, deltas: Mapping[str, int]) -> bool:
        check_deltas(deltas)
        coll = await self._coll()
        if not deltas:  # $inc refuses an empty document
            return await coll.count_documents({"_id": key}, limit=1) == 1
        result = await coll.update_one({"_id": key}, {"$inc": dict(deltas)})
        return result.matched_count == 1

    async def _increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        # One unordered bulk write: each $inc is atomic, but without a transaction one that
        # fails (a field that is not a number) does not undo the others.
        coll = await self._coll()
        ops = [UpdateOne({"_id": k}, {"$inc": dict(d)}) for k, d in deltas_by_key.items() if d]
        if ops:
            result = await coll.bulk_write(ops, ordered=False)
            if result.matched_count == len(ops) == len(deltas_by_key):
                return set(deltas_by_key)
        # The bulk result counts the matches without naming them: ask which keys exist.
        # (A document created by someone else just after the write would be named too.)
        found = coll.find({"_id": {"$in": list(deltas_by_key)}}, {"_id": 1})
        return {d["_id"] async for d in found}

    async def delete(self, key: str) -> bool:
        result = await (await self._coll()).delete_one({"_id": key})
        return result.deleted_count == 1

    async def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        cursor = (await self._coll()).find(_query(where))
        if order_by:
            direction = DESCENDING if descending else ASCENDING
            cursor = cursor.sort([(order_by, direction), ("_id", direction)])
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_strip(d) async for d in cursor]

    async def count(self, where: Where | None = None) -> int:
        return await (await self._coll()).count_documents(_query(where))

    async def count_by(self, field: str, where: Where | None = None) -> dict[Any, int]:
        if not FIELD_NAME.match(field):
            raise ValueError(f"invalid field name {field!r}")
        pipeline = [
            {"$match": _query(where)},
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


class MongoStore(Store):
    """A store in one MongoDB database (one per service on a shared cluster)."""

    def __init__(self, url: str, database: str) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        self._db_name = database
        self._collections: dict[str, MongoCollection] = {}

    @property
    def database(self) -> AsyncDatabase[dict[str, Any]]:
        return self._client[self._db_name]

    async def connect(self) -> None:
        await self.ping()

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        try:
            await self._client.admin.command("ping")
        except PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB is not reachable: {exc}") from exc

    def collection(self, name: str, indexes: Sequence[str] = ()) -> Collection:
        if name not in self._collections:
            self._collections[name] = MongoCollection(self, name, indexes)
        return self._collections[name]
