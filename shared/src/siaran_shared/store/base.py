"""The store interface every service uses: named collections of JSON documents by key.

Documents are JSON-compatible dicts (serialise models with ``model_dump(mode="json")``;
datetimes as ISO-8601 UTC strings, which sort chronologically). Queries are a small,
MongoDB-shaped subset both implementations answer identically:

``{"field": value}`` (equality; ``None`` matches a missing field too),
``{"field": {"$lt"|"$lte"|"$gt"|"$gte"|"$ne"|"$in": ...}}`` and ``{"$or": [where, ...]}``.
Field names may be dotted (``"outcome.status"``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

Doc = dict[str, Any]
Where = Mapping[str, Any]

_MISSING = object()


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
