"""The store interface every service uses: named collections of JSON documents by key.

Documents are JSON-compatible dicts (serialise models with ``model_dump(mode="json")``;
datetimes as ISO-8601 UTC strings, which sort chronologically). Queries are a small,
MongoDB-shaped subset both implementations answer identically:

``{"field": value}`` (equality; ``None`` matches a missing field too),
``{"field": {"$lt"|"$lte"|"$gt"|"$gte"|"$ne"|"$in": ...}}`` and ``{"$or": [where, ...]}``.
Field names may be dotted (``"outcome.status"``).

Counters are kept with ``increment`` (MongoDB's ``$inc``): integers added to numeric fields
without reading the document first, so concurrent increments all count.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

Doc = dict[str, Any]
Where = Mapping[str, Any]

_MISSING = object()

#: A field name: identifiers joined by dots (what both backends accept in a path).
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class StoreUnavailable(RuntimeError):
    """The store cannot be reached; the operation may be retried later."""


def get_path(doc: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a document, or a sentinel when absent."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def matches(doc: Mapping[str, Any], where: Where | None) -> bool:
    """Evaluate a query against one document (the reference semantics of the interface)."""
    if not where:
        return True
    for field, cond in where.items():
        if field == "$or":
            if not any(matches(doc, sub) for sub in cond):
                return False
            continue
        value = get_path(doc, field)
        if isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
            for op, arg in cond.items():
                if not _compare(value, op, arg):
                    return False
        elif cond is None:
            if value is not _MISSING and value is not None:
                return False
        elif value is _MISSING or value != cond:
            return False
    return True


def check_deltas(deltas: Mapping[str, int]) -> None:
    """Refuse an increment whose fields are not plain (dotted) names or whose values are not
    integers, before anything is written."""
    for field, delta in deltas.items():
        if not FIELD_NAME.match(field):
            raise ValueError(f"invalid field name {field!r}")
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"increment of {field!r} must be an integer, not {delta!r}")


def add_deltas(doc: Doc, deltas: Mapping[str, int]) -> None:
    """Add integers to (dotted) numeric fields of a document in place: the reference
    semantics of `Collection.increment` (missing fields start at 0, missing objects empty)."""
    for field, delta in deltas.items():
        *parents, leaf = field.split(".")
        target = doc
        for part in parents:
            inner = target.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ValueError(f"cannot increment {field!r}: {part!r} is not an object")
            target = inner
        value = target.get(leaf, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"cannot increment {field!r}: {value!r} is not a number")
        target[leaf] = value + delta


def _compare(value: Any, op: str, arg: Any) -> bool:
    if op == "$ne":
        return value is _MISSING or value != arg
    if op == "$in":
        return value is not _MISSING and value in arg
    if value is _MISSING or value is None:
        return False
    try:
        if op == "$lt":
            return bool(value < arg)
        if op == "$lte":
            return bool(value <= arg)
        if op == "$gt":
            return bool(value > arg)
        if op == "$gte":
            return bool(value >= arg)
    except TypeError:
        return False
    raise ValueError(f"unsupported query operator {op}")


class Collection(ABC):
    """Documents of one kind, each under a unique string key."""

    name: str

    @abstractmethod
    async def get(self, key: str) -> Doc | None:
        """The document under `key`, or None."""

    @abstractmethod
    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        """The documents under these keys that exist."""

    @abstractmethod
    async def put(self, key: str, doc: Doc) -> None:
        """Create or replace the document under `key`."""

    @abstractmethod
    async def put_many(self, docs: Mapping[str, Doc]) -> None:
        """Create or replace many documents in one round trip."""

    @abstractmethod
    async def insert(self, key: str, doc: Doc) -> bool:
        """Create the document only if `key` is absent; False if it already existed."""

    async def insert_many(self, docs: Mapping[str, Doc]) -> set[str]:
        """Create each document whose key is absent, in as few round trips as the store
        allows; the keys that were inserted (the others already existed)."""
        return {key for key, doc in docs.items() if await self.insert(key, doc)}

    @abstractmethod
    async def update(
        self, key: str, changes: Mapping[str, Any], *, where: Where | None = None
    ) -> bool:
        """Set top-level fields of an existing document if it matches `where`, atomically."""

    async def increment(self, key: str, deltas: Mapping[str, int]) -> bool:
        """Add integers to (dotted) numeric fields of an existing document, atomically;
        missing fields start at 0. False if there is no document under `key`."""
        return key in await self.increment_many({key: deltas})

    async def increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        """`increment` for many documents in one transaction or bulk write; the keys whose
        document existed (the others are not created)."""
        for deltas in deltas_by_key.values():
            check_deltas(deltas)
        if not deltas_by_key:
            return set()
        return await self._increment_many(deltas_by_key)

    @abstractmethod
    async def _increment_many(self, deltas_by_key: Mapping[str, Mapping[str, int]]) -> set[str]:
        """`increment_many` once its deltas are checked and there are some."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the document; False if there was none."""

    @abstractmethod
    async def find(
        self,
        where: Where | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        """Documents matching `where`, optionally sorted and limited."""

    @abstractmethod
    async def count(self, where: Where | None = None) -> int:
        """How many documents match `where`."""

    @abstractmethod
    async def count_by(self, field: str, where: Where | None = None) -> dict[Any, int]:
        """How many documents matching `where` hold each value of `field` (None stands for
        null or missing). The values must be scalars: strings, numbers or booleans."""


class Store(ABC):
    """One service's data: collections with indexes, and a health check."""

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; create tables or indexes that are missing."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable if the store cannot answer now."""

    @abstractmethod
    def collection(self, name: str, indexes: Sequence[str] = ()) -> Collection:
        """A collection (created on first use) with single-field indexes on `indexes`."""
