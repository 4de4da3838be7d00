"""The claims' group commit: grouped round trips, same answers as one write at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from siaran_publisher.batching import WriteBatcher
from siaran_shared.store import Collection
from siaran_shared.store.sqlite import SQLiteStore


class Counting:
    """Wraps a collection, counting round trips; can be told to fail."""

    def __init__(self, inner: Collection) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []
        self.fail: Exception | None = None

    async def insert_many(self, docs: Mapping[str, Any]) -> set[str]:
        self.calls.append(("insert_many", len(docs)))
        if self.fail:
            raise self.fail
        return await self.inner.insert_many(docs)

    async def put_many(self, docs: Mapping[str, Any]) -> None:
        self.calls.append(("put_many", len(docs)))
        if self.fail:
            raise self.fail
        await self.inner.put_many(docs)


@pytest.fixture
async def docs(tmp_path: Path) -> Any:
    store = SQLiteStore(tmp_path / "b.db")
    await store.connect()
    yield Counting(store.collection("deliveries"))
    await store.close()


async def test_concurrent_writes_share_round_trips(docs: Counting) -> None:
    batcher = WriteBatcher(docs)  # type: ignore[arg-type]
    won = await asyncio.gather(*(batcher.insert(f"k{i}", {"i": i}) for i in range(100)))
    assert all(won)
    assert len(docs.calls) <= 2  # one group, or two if the first started before all arrived
    await asyncio.gather(*(batcher.put(f"k{i}", {"i": -i}) for i in range(100)))
    assert len(docs.calls) <= 4
    assert await docs.inner.get("k7") == {"i": -7}


async def test_one_winner_per_key_within_and_across_groups(docs: Counting) -> None:
    batcher = WriteBatcher(docs)  # type: ignore[arg-type]
    first = await asyncio.gather(*(batcher.insert("same", {"n": n}) for n in range(10)))
    assert first.count(True) == 1
    assert await batcher.insert("same", {"n": 99}) is False
    assert await docs.inner.get("same") == {"n": first.index(True)}


async def test_a_failed_round_trip_fails_every_waiter_and_the_next_one_works(
    docs: Counting,
) -> None:
    batcher = WriteBatcher(docs)  # type: ignore[arg-type]
    docs.fail = RuntimeError("store down")
    results = await asyncio.gather(
        batcher.insert("a", {}), batcher.put("b", {}), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    docs.fail = None
    assert await batcher.insert("a", {"ok": True}) is True
    await batcher.put("b", {"ok": True})
    assert await docs.inner.get("b") == {"ok": True}


async def test_a_cancelled_waiter_does_not_break_the_group(docs: Counting) -> None:
    batcher = WriteBatcher(docs)  # type: ignore[arg-type]
    gone = asyncio.create_task(batcher.insert("x", {"n": 1}))
    kept = asyncio.create_task(batcher.insert("y", {"n": 2}))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept is True
    assert await docs.inner.get("y") == {"n": 2}
