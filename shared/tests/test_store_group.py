"""Group commit: grouped round trips, the same answers as one write at a time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from siaran_shared.store import Collection, GroupWriter, StoreUnavailable
from siaran_shared.store.sqlite import SQLiteStore


class Counting:
    """Wraps a collection, counting round trips; can be told to fail, or to hold a round
    trip until released (to see what waits behind it)."""

    def __init__(self, inner: Collection) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []
        self.fail: Exception | None = None
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def _round_trip(self, name: str, size: int) -> None:
        self.calls.append((name, size))
        self.entered.set()
        await self.release.wait()
        if self.fail:
            raise self.fail

    async def insert_many(self, docs: Mapping[str, Any]) -> set[str]:
        await self._round_trip("insert_many", len(docs))
        return await self.inner.insert_many(docs)

    async def put_many(self, docs: Mapping[str, Any]) -> None:
        await self._round_trip("put_many", len(docs))
        await self.inner.put_many(docs)


@pytest.fixture
async def docs(tmp_path: Path) -> AsyncIterator[Counting]:
    store = SQLiteStore(tmp_path / "group.db")
    await store.connect()
    yield Counting(store.collection("claims"))
    await store.close()


def writer(docs: Counting, **options: Any) -> GroupWriter:
    return GroupWriter(docs, **options)  # type: ignore[arg-type]


async def test_concurrent_writes_share_round_trips(docs: Counting) -> None:
    group = writer(docs)
    won = await asyncio.gather(*(group.insert(f"k{i}", {"i": i}) for i in range(100)))
    assert all(won)
    assert docs.calls == [("insert_many", 100)]
    await asyncio.gather(*(group.put(f"k{i}", {"i": -i}) for i in range(100)))
    assert docs.calls[1:] == [("put_many", 100)]
    assert await docs.inner.get("k7") == {"i": -7}


async def test_writes_arriving_during_a_round_trip_wait_for_the_next_one(docs: Counting) -> None:
    group = writer(docs, max_batch=30)
    docs.release.clear()
    first = asyncio.create_task(group.put("first", {"n": 0}))
    await docs.entered.wait()
    later = [asyncio.create_task(group.put(f"k{i}", {"n": i})) for i in range(50)]
    docs.release.set()
    await asyncio.gather(first, *later)
    assert docs.calls == [("put_many", 1), ("put_many", 30), ("put_many", 20)]


async def test_the_last_put_of_a_key_in_a_group_wins(docs: Counting) -> None:
    group = writer(docs)
    await asyncio.gather(*(group.put("same", {"n": n}) for n in range(5)))
    assert docs.calls == [("put_many", 1)]
    assert await docs.inner.get("same") == {"n": 4}


async def test_one_winner_per_key_within_and_across_groups(docs: Counting) -> None:
    group = writer(docs)
    first = await asyncio.gather(*(group.insert("same", {"n": n}) for n in range(10)))
    assert first == [True] + [False] * 9
    assert await group.insert("same", {"n": 99}) is False
    assert await docs.inner.get("same") == {"n": 0}


async def test_a_failed_round_trip_fails_every_waiter_and_the_next_one_works(
    docs: Counting,
) -> None:
    group = writer(docs)
    docs.fail = StoreUnavailable("store down")
    results = await asyncio.gather(
        group.insert("a", {}), group.insert("a", {}), group.put("b", {}), return_exceptions=True
    )
    assert [type(r) for r in results] == [StoreUnavailable] * 3
    docs.fail = None
    assert await group.insert("a", {"ok": True}) is True
    await group.put("b", {"ok": True})
    assert await docs.inner.get("b") == {"ok": True}


async def test_a_cancelled_caller_leaves_its_write_to_the_group(docs: Counting) -> None:
    group = writer(docs)
    docs.release.clear()
    gone = asyncio.create_task(group.insert("x", {"n": 1}))
    await docs.entered.wait()
    gone.cancel()
    docs.release.set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await group.insert("x", {"n": 3}) is False  # the cancelled caller's insert landed
    assert await docs.inner.get("x") == {"n": 1}


async def test_a_failure_nobody_waits_for_is_not_reported_as_unretrieved(
    docs: Counting,
) -> None:
    unhandled: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unhandled.append(context))
    group = writer(docs)
    docs.release.clear()
    docs.fail = StoreUnavailable("store down")
    gone = asyncio.create_task(group.put("y", {"n": 2}))
    await docs.entered.wait()
    gone.cancel()
    docs.release.set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    docs.fail = None
    await group.put("z", {})  # the group goes on
    gc.collect()  # an unretrieved exception is reported when its future is collected
    assert unhandled == []
    assert await docs.inner.get("y") is None
