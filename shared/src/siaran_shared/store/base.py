"""The store interface every service uses: named collections of JSON documents by key.

Documents are JSON-compatible dicts (serialise models with ``model_dump(mode="json")``;
datetimes as ISO-8601 UTC strings, which sort chronologically). Queries are a small,
MongoDB-shaped subset both implementations answer identically (see `query`):

``{"field": value}`` (equality; ``None`` matches a missing field too),
``{"field": {"$lt"|"$lte"|"$gt"|"$gte"|"$ne"|"$in": ...}}`` and ``{"$or": [where, ...]}``.
Field names may be dotted (``"outcome.status"``). Every call checks its query, sort, limit
and documents first and refuses what the backends would answer differently.

Counters are kept with ``increment`` (MongoDB's ``$inc``): integers added to numeric fields
without reading the document first, so concurrent increments all count.

A collection may carry an `Expiry`: a document whose expiry field (an ISO-8601 time, set when
the record becomes final) is older than the retention is removed by `Store.prune` (and, on
MongoDB, by a TTL index as well). A document without that field is kept.

Every write that succeeds is counted in `WRITES` (round trips) and `DOCUMENTS_WRITTEN`
(documents sent) per collection and operation; a service exports both as the counters
`siaran_store_writes` and `siaran_store_documents_written`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from siaran_shared.store.query import (
    MISSING,
    RESERVED,
    Doc,
    Where,
    check_deltas,
    check_doc,
    check_field,
    check_find,
    check_where,
    get_path,
)

#: The hidden field a store keeps the expiry time in (never returned to callers).
FINAL_AT = RESERVED[1]
#: Writes that succeeded since the process started, per (collection, operation): round
#: trips, and the documents they carried (a group commit is one write of many documents).
WRITES: Counter[tuple[str, str]] = Counter()
DOCUMENTS_WRITTEN: Counter[tuple[str, str]] = Counter()


def _wrote(collection: str, operation: str, documents: int) -> None:
    WRITES[collection, operation] += 1
    DOCUMENTS_WRITTEN[collection, operation] += documents


class StoreError(RuntimeError):
    """The store refused or failed an operation (not worth retrying as it is)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or answer in time; the operation may be retried later."""


@dataclass(frozen=True)
class Expiry:
    """Documents whose `field` (an ISO-8601 time) lies more than `after` in the past are
    removed; documents without the field (not final yet) are kept."""

    after: timedelta
    field: str = "final_at"

    def __post_init__(self) -> None:
        check_field(self.field)
        if self.after <= timedelta(0):
            raise ValueError(f"retention of {self.field!r} must be positive, not {self.after}")

    def final_time(self, doc: Mapping[str, Any]) -> datetime | None:
        """When the document became final, from its expiry field; None if it has none."""
        value = get_path(doc, self.field)
        if value is None or value is MISSING:
            return None
        try:
            if isinstance(value, datetime):
                at = value
            elif isinstance(value, str):
                at = datetime.fromisoformat(value)
            else:
                raise ValueError(value)
        except ValueError:
            raise ValueError(f"{self.field} must be an ISO-8601 time, not {value!r}") from None
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

    def touched_by(self, changes: Mapping[str, Any]) -> bool:
        """Whether an update setting these top-level fields changes the expiry field."""
        return self.field.split(".", 1)[0] in changes

    def cutoff(self, now: datetime) -> datetime:
        """Documents final before this instant have expired."""
        return now.astimezone(UTC) - self.after


class Collection(ABC):
    """Documents of one kind, each under a unique string key."""

    name: str
    expiry: Expiry | None = None

    @abstractmethod
    async def get(self, key: str) -> Doc | None:
        """The document under `key`, or None."""

    @abstractmethod
    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        """The documents under these keys that exist."""

    async def put(self, key: str, doc: Doc) -> None:
        """Create or replace the document under `key`."""
        await self.put_many({key: doc})

    async def put_many(self, docs: Mapping[str, Doc]) -> None:
        """Create or replace many documents in one round trip, all or none."""
        for doc in docs.values():
            check_doc(doc)
        if docs:
            await self._put_many(docs)
            _wrote(self.name, "put", len(docs))

    async def insert(self, key: str, doc: Doc) -> bool:
        """Create the document only if `key` is absent; False if it already existed."""
        return key in await self.insert_many({key: doc})

    async def insert_many(self, docs: Mapping[str, Doc]) -> set[str]:
        """Create each document whose key is absent, all in one transaction; the keys that
        were inserted (the others already existed)."""
        for doc in docs.values():
            check_doc(doc)
        if not docs:
            return set()
        inserted = await self._insert_many(docs)
        _wrote(self.name, "insert", len(docs))
        return inserted

    async def update(
        self, key: str, changes: Mapping[str, Any], *, where: Where | None = None
    ) -> bool:
        """Set top-level fields of an existing document if it matches `where`, atomically."""
        check_doc(changes)
        check_where(where)
        updated = await self._update(key, changes, where)
        _wrote(self.name, "update", 1)
        return updated

    async def increment(self, key: str, deltas: Mapping[str, int]) -> bool:
        """Add integers to (dotted) numeric fields of an existing document, atomically;
        missing fields start at 0. False if there is no document under `key`."""
        return key in await self.increment_many({key: deltas})

    async def increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        """`increment` for many documents in one transaction; the keys whose document
        existed (the others are not created). A field that is not a number refuses all."""
        for deltas in deltas_by_key.values():
            check_deltas(deltas)
        if not deltas_by_key:
            return set()
        existed = await self._increment_many(deltas_by_key)
        _wrote(self.name, "increment", len(deltas_by_key))
        return existed

    async def delete(self, key: str) -> bool:
        """Remove the document; False if there was none."""
        deleted = await self._delete(key)
        _wrote(self.name, "delete", 1)
        return deleted

    async def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        """Documents matching `where`, optionally sorted and limited (`limit` >= 1). Ties,
        and the documents of a sort field that is missing or null, are ordered by key (in
        the same direction); missing and null sort first ascending. Sort a field holding
        one kind of scalar (strings or numbers)."""
        check_where(where)
        check_find(order_by, limit)
        return await self._find(where, order_by, descending, limit)

    async def count(self, where: Where | None = None) -> int:
        """How many documents match `where`."""
        check_where(where)
        return await self._count(where)

    async def count_by(self, field: str, where: Where | None = None) -> dict[Any, int]:
        """How many documents matching `where` hold each value of `field` (None stands for
        null or missing). The values must be scalars: strings, numbers or booleans."""
        check_field(field)
        check_where(where)
        return await self._count_by(field, where)

    @abstractmethod
    async def _put_many(self, docs: Mapping[str, Doc]) -> None: ...

    @abstractmethod
    async def _insert_many(self, docs: Mapping[str, Doc]) -> set[str]: ...

    @abstractmethod
    async def _update(self, key: str, changes: Mapping[str, Any], where: Where | None) -> bool:
        """`update` once its changes and query are checked."""

    @abstractmethod
    async def _increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        """`increment_many` once its deltas are checked and there are some."""

    @abstractmethod
    async def _find(
        self, where: Where | None, order_by: str | None, descending: bool, limit: int | None
    ) -> list[Doc]: ...

    @abstractmethod
    async def _delete(self, key: str) -> bool: ...

    @abstractmethod
    async def _count(self, where: Where | None) -> int: ...

    @abstractmethod
    async def _count_by(self, field: str, where: Where | None) -> dict[Any, int]: ...

    @abstractmethod
    async def prune(self, now: datetime) -> int:
        """Remove the documents expired at `now` (none without an expiry); how many."""


class Store(ABC):
    """One service's data: collections with indexes, and a health check."""

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; create the tables and indexes of the collections made so far
        (a collection made later gets them on first use)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable if the store cannot answer now."""

    @abstractmethod
    def collection(
        self, name: str, indexes: Sequence[str] = (), *, expiry: Expiry | None = None
    ) -> Collection:
        """A collection with single-field indexes on `indexes` and an optional expiry. The
        first call for a name decides its indexes and expiry."""

    @abstractmethod
    def collections(self) -> Sequence[Collection]:
        """The collections made so far."""

    async def prune(self, now: datetime | None = None) -> dict[str, int]:
        """Remove expired documents from every collection with an expiry; how many each."""
        at = now or datetime.now(UTC)
        removed: dict[str, int] = {}
        for collection in self.collections():
            if collection.expiry is not None:
                removed[collection.name] = n = await collection.prune(at)
                _wrote(collection.name, "prune", n)
        return removed
