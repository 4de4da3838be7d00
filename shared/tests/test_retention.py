"""Retention: what each kind of record is kept for, and the loop that removes the rest."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from siaran_shared.retention import RetentionSettings, prune_periodically
from siaran_shared.store import StoreUnavailable
from siaran_shared.store.sqlite import SQLiteStore


def test_defaults_an_auditor_accepts_and_the_environment_overrides_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = RetentionSettings()
    assert kept.keep("ledger", "completed_at").after == timedelta(days=400)
    assert kept.keep("ledger", "completed_at").field == "completed_at"
    assert kept.keep("archive").after == timedelta(days=400)
    assert kept.keep("plans").after == timedelta(days=400)
    assert kept.keep("claims").after == timedelta(days=14)
    assert kept.keep("batches").field == "final_at"
    monkeypatch.setenv("SIARAN_RETENTION_CLAIMS_DAYS", "30")
    assert RetentionSettings().keep("claims").after == timedelta(days=30)
    monkeypatch.setenv("SIARAN_RETENTION_LEDGER_DAYS", "0")
    with pytest.raises(ValueError, match="ledger_days"):
        RetentionSettings()


class WatchedStore(SQLiteStore):
    """A SQLite store that tells when a round of pruning is done; the first round fails
    (the server cannot be reached) when asked to."""

    def __init__(self, path: Path, *, fail_first: bool = False) -> None:
        super().__init__(path)
        self.rounds = 0
        self.pruned = asyncio.Event()
        self._fail_first = fail_first

    async def prune(self, now: datetime | None = None) -> dict[str, int]:
        self.rounds += 1
        if self._fail_first and self.rounds == 1:
            raise StoreUnavailable("no primary")
        removed = await super().prune(now)
        self.pruned.set()
        return removed


async def test_the_loop_removes_records_past_their_age_and_keeps_those_inside_it(
    tmp_path: Path,
) -> None:
    store = WatchedStore(tmp_path / "metrics.db")
    kept = RetentionSettings()
    deliveries = store.collection("deliveries", expiry=kept.keep("ledger", "completed_at"))
    channels = store.collection("channels")  # no expiry: never pruned
    await store.connect()
    now = datetime.now(UTC)
    await deliveries.put_many(
        {
            "old": {"completed_at": (now - timedelta(days=401)).isoformat()},
            "inside": {"completed_at": (now - timedelta(days=399)).isoformat()},
            "pending": {"status": "pending"},
        }
    )
    await channels.put("c", {"completed_at": (now - timedelta(days=4000)).isoformat()})
    loop = asyncio.create_task(prune_periodically(store, 3600))
    try:
        await asyncio.wait_for(store.pruned.wait(), timeout=10)  # the first round: at once
    finally:
        loop.cancel()
    assert set(await deliveries.get_many(["old", "inside", "pending"])) == {"inside", "pending"}
    assert await channels.get("c") is not None
    await store.close()


async def test_a_store_that_cannot_answer_is_tried_again_next_round(tmp_path: Path) -> None:
    store = WatchedStore(tmp_path / "flaky.db", fail_first=True)
    await store.connect()
    loop = asyncio.create_task(prune_periodically(store, 0.01))
    try:
        await asyncio.wait_for(store.pruned.wait(), timeout=10)
        assert store.rounds == 2
        assert not loop.done()
    finally:
        loop.cancel()
        await store.close()


async def test_records_written_before_retention_existed_expire_too(tmp_path: Path) -> None:
    """A local store from an earlier version has no expiry column: it is added at connect and
    filled from each record's field, so old records are pruned like new ones."""
    path = tmp_path / "publisher.db"
    now = datetime.now(UTC)
    old = (now - timedelta(days=20)).isoformat()
    recent = (now - timedelta(days=2)).isoformat()
    with sqlite3.connect(path) as db:  # the table as earlier versions made it
        db.execute("CREATE TABLE deliveries (key TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO deliveries VALUES (?, ?)",
            [
                ("old", json.dumps({"outcome": {"completed_at": old}})),
                ("recent", json.dumps({"outcome": {"completed_at": recent}})),
                ("open", json.dumps({"outcome": None})),
            ],
        )
    store = SQLiteStore(path)
    claims = store.collection(
        "deliveries", expiry=RetentionSettings().keep("claims", "outcome.completed_at")
    )
    await store.connect()
    try:
        assert await store.prune(now) == {"deliveries": 1}
        assert set(await claims.get_many(["old", "recent", "open"])) == {"recent", "open"}
    finally:
        await store.close()


async def test_a_large_prune_goes_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siaran_shared.store import sqlite_collection

    monkeypatch.setattr(sqlite_collection, "PRUNE_CHUNK", 7)
    store = SQLiteStore(tmp_path / "chunks.db")
    c = store.collection("claims", expiry=RetentionSettings().keep("claims"))
    await store.connect()
    now = datetime.now(UTC)
    old = (now - timedelta(days=15)).isoformat()
    await c.put_many({f"k{i}": {"final_at": old} for i in range(30)} | {"new": {"n": 1}})
    statements: list[str] = []
    await store.db.set_trace_callback(statements.append)
    try:
        assert await store.prune(now) == {"claims": 30}
        assert await c.count() == 1
    finally:
        await store.close()
    assert sum(s.startswith("DELETE") for s in statements) == 5  # 7+7+7+7+2: a short one is last
