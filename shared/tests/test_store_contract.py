"""The store contract: every implementation answers these the same way."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from siaran_shared.store import Expiry, Store, matches


async def test_put_get_replace_delete(store: Store) -> None:
    c = store.collection("things")
    assert await c.get("a") is None
    await c.put("a", {"n": 1, "tags": ["x"], "nested": {"k": "v"}})
    assert await c.get("a") == {"n": 1, "tags": ["x"], "nested": {"k": "v"}}
    await c.put("a", {"n": 2})
    assert await c.get("a") == {"n": 2}
    assert await c.delete("a") is True
    assert await c.delete("a") is False
    assert await c.get("a") is None


async def test_insert_only_if_absent(store: Store) -> None:
    c = store.collection("claims")
    assert await c.insert("k", {"owner": "one"}) is True
    assert await c.insert("k", {"owner": "two"}) is False
    assert await c.get("k") == {"owner": "one"}


async def test_concurrent_inserts_have_exactly_one_winner(store: Store) -> None:
    c = store.collection("race")
    results = await asyncio.gather(*(c.insert("same", {"i": i}) for i in range(20)))
    assert results.count(True) == 1


async def test_insert_many_creates_only_absent_keys(store: Store) -> None:
    c = store.collection("claims_many")
    assert await c.insert_many({}) == set()
    await c.put("taken", {"owner": "first"})
    docs = {f"k{i}": {"i": i} for i in range(900)} | {"taken": {"owner": "second"}}
    assert await c.insert_many(docs) == {f"k{i}" for i in range(900)}
    assert await c.get("taken") == {"owner": "first"}
    assert await c.get("k899") == {"i": 899}
    assert await c.insert_many({"k1": {"i": -1}, "new": {"i": 0}}) == {"new"}
    assert await c.get("k1") == {"i": 1}


async def test_concurrent_insert_many_have_one_winner_per_key(store: Store) -> None:
    c = store.collection("race_many")
    batches = [{f"k{j}": {"batch": i} for j in range(i % 3, 30, 2)} for i in range(8)]
    won = await asyncio.gather(*(c.insert_many(b) for b in batches))
    winners = [key for keys in won for key in keys]
    assert sorted(winners) == sorted(set(winners))  # no key won twice
    assert set(winners) == {key for b in batches for key in b}
    for i, keys in enumerate(won):
        for key in keys:
            assert (await c.get(key)) == {"batch": i}


async def test_put_many_and_get_many(store: Store) -> None:
    c = store.collection("bulk")
    await c.put_many({f"k{i}": {"i": i} for i in range(1200)})
    got = await c.get_many([f"k{i}" for i in range(0, 1200, 2)] + ["missing"])
    assert len(got) == 600
    assert got["k10"] == {"i": 10}
    assert await c.count() == 1200


async def test_conditional_update(store: Store) -> None:
    c = store.collection("leases")
    await c.put("d", {"state": "claimed", "owner": "a", "lease_until": "2026-01-01T00:00:00"})
    assert not await c.update("d", {"owner": "b"}, where={"state": "done"})
    assert await c.update(
        "d",
        {"owner": "b"},
        where={
            "state": {"$in": ["claimed", "waiting"]},
            "$or": [{"owner": "b"}, {"lease_until": {"$lt": "2026-06-01T00:00:00"}}],
        },
    )
    assert (await c.get("d") or {})["owner"] == "b"
    assert not await c.update("missing", {"x": 1})


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"kind": "web"}, ["a", "c"]),
        ({"kind": "web", "n": {"$gte": 3}}, ["c"]),
        ({"n": {"$lt": 2}}, ["a"]),
        ({"n": {"$lte": 2, "$gt": 1}}, ["b"]),
        ({"kind": {"$in": ["x", "sms"]}}, ["b"]),
        ({"kind": {"$in": []}}, []),
        ({"kind": {"$ne": "web"}}, ["b", "d"]),
        ({"flag": True}, ["a"]),
        ({"flag": False}, ["b"]),
        ({"flag": None}, ["c", "d"]),
        ({"meta.region": "73"}, ["a", "b"]),
        ({"$or": [{"n": 1}, {"kind": "x"}]}, ["a", "b"]),
        ({}, ["a", "b", "c", "d"]),
    ],
)
async def test_find_and_count_queries(
    store: Store, where: dict[str, object], expected: list[str]
) -> None:
    c = store.collection("queries", indexes=("kind", "n"))
    docs = {
        "a": {"id": "a", "kind": "web", "n": 1, "flag": True, "meta": {"region": "73"}},
        "b": {"id": "b", "kind": "x", "n": 2, "flag": False, "meta": {"region": "73"}},
        "c": {"id": "c", "kind": "web", "n": 3, "meta": {"region": "31"}},
        "d": {"id": "d", "n": 4, "flag": None},
    }
    await c.put_many(docs)
    found = await c.find(where)
    assert sorted(d["id"] for d in found) == expected
    assert await c.count(where) == len(expected)
    # the reference semantics agree with the backend
    assert sorted(k for k, d in docs.items() if matches(d, where)) == expected


async def test_find_order_and_limit(store: Store) -> None:
    c = store.collection("ordered", indexes=("at",))
    await c.put_many(
        {f"k{i}": {"id": f"k{i}", "at": f"2026-11-22T0{i}:00:00+00:00"} for i in range(5)}
    )
    newest = await c.find(order_by="at", descending=True, limit=2)
    assert [d["id"] for d in newest] == ["k4", "k3"]
    since = await c.find({"at": {"$gte": "2026-11-22T02:00:00+00:00"}}, order_by="at")
    assert [d["id"] for d in since] == ["k2", "k3", "k4"]


async def test_collections_are_separate_and_survive_reconnect(store: Store) -> None:
    await store.collection("one").put("k", {"v": 1})
    await store.collection("two").put("k", {"v": 2})
    assert (await store.collection("one").get("k")) == {"v": 1}
    await store.ping()
    assert (await store.collection("two").get("k")) == {"v": 2}


def test_invalid_names_are_refused() -> None:
    from siaran_shared.store.sqlite import SQLiteStore

    s = SQLiteStore(__import__("pathlib").Path(":memory:"))
    with pytest.raises(ValueError, match="invalid collection name"):
        s.collection("drop table x;")


async def test_sqlite_stores_text_as_text_and_refuses_what_mongodb_would(tmp_path: Path) -> None:
    from siaran_shared.store.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "text.db")
    await s.connect()
    try:
        c = s.collection("texts")
        await c.put("k", {"title": "Sulawesi Selatan — ‘Sehat’ ü 東"})
        rows = await s.db.execute_fetchall("SELECT doc FROM texts")
        assert [row[0] for row in rows] == ['{"title":"Sulawesi Selatan — ‘Sehat’ ü 東"}']
        with pytest.raises(TypeError):  # MongoDB refuses keys that are not strings, too
            await c.put("k", {"by_code": {73: "x"}})
        with pytest.raises(TypeError):  # and integers beyond 64 bits
            await c.put("k", {"n": 2**64})
        assert await c.get("k") == {"title": "Sulawesi Selatan — ‘Sehat’ ü 東"}
    finally:
        await s.close()


async def test_interleaved_operations_from_many_coroutines(store: Store) -> None:
    """Reads, conditional updates, bulk inserts and writes at once: none fails, none is lost."""
    c = store.collection("busy", indexes=("n",))
    await c.put_many({f"k{i}": {"n": i, "hits": 0} for i in range(50)})

    async def bump(i: int) -> bool:
        return await c.update(f"k{i % 50}", {"hits": 1}, where={"n": i % 50})

    results = await asyncio.gather(
        *(bump(i) for i in range(100)),
        *(c.insert_many({f"new{i}-{j}": {"n": j} for j in range(20)}) for i in range(10)),
        *(c.find({"n": {"$lt": 10}}) for _ in range(20)),
        *(c.put(f"p{i}", {"n": i}) for i in range(30)),
    )
    assert all(r is True for r in results[:100])
    assert await c.count() == 50 + 10 * 20 + 30


async def test_documents_round_trip_exactly(store: Store) -> None:
    """Text stays text (non-ASCII, control characters), numbers keep their type and range."""
    c = store.collection("round_trip", indexes=("title",))
    doc = {
        "title": "Pengumuman: jaga kesehatan — ‘Sehat’ 🇮🇩 ü 東",
        "body": 'baris 1\nbaris 2\t"kutip" \\ \u0000 \u001f',
        "empty": "",
        "ints": [0, -1, 2**63 - 1, -(2**63)],
        "floats": [0.1, -2.5, 1e-05, 1.0e300],
        "flags": [True, False, None],
        "nested": {"a": {"b": [{"c": "ü"}]}, "empty": {}, "list": []},
    }
    await c.put("k", doc)
    assert await c.get("k") == doc
    assert await c.get_many(["k"]) == {"k": doc}
    [found] = await c.find({"title": doc["title"]})
    assert found == doc


async def test_increment_adds_to_dotted_fields(store: Store) -> None:
    c = store.collection("counters")
    await c.put("a", {"id": "a", "n": 1, "totals": {"x": 2}, "ratio": 0.5})
    assert await c.increment("a", {"n": 2, "totals.x": -1, "totals.y": 5, "new.deep.z": 1})
    assert await c.increment("a", {"ratio": 1})
    assert await c.get("a") == {
        "id": "a",
        "n": 3,
        "totals": {"x": 1, "y": 5},
        "ratio": 1.5,
        "new": {"deep": {"z": 1}},
    }
    assert await c.increment("a", {}) is True
    assert await c.increment("missing", {"n": 1}) is False
    assert await c.get("missing") is None


async def test_increment_refuses_bad_fields_and_deltas(store: Store) -> None:
    c = store.collection("counters_bad")
    await c.put("a", {"n": 1})
    with pytest.raises(ValueError, match="invalid field name"):
        await c.increment("a", {"$n": 1})
    with pytest.raises(TypeError, match="integer"):
        await c.increment("a", {"n": 1.5})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="integer"):
        await c.increment_many({"a": {"n": True}})
    assert await c.get("a") == {"n": 1}


async def test_increment_of_a_field_that_is_no_number_changes_nothing(store: Store) -> None:
    c = store.collection("counters_typed")
    await c.put_many({"a": {"n": 1}, "b": {"n": "one"}, "c": {"n": 1}})
    with pytest.raises(ValueError, match=r"non-numeric|not a number"):
        await c.increment_many({"a": {"n": 1}, "b": {"n": 1}, "c": {"n": 1}})
    assert await c.get_many(["a", "b", "c"]) == {"a": {"n": 1}, "b": {"n": "one"}, "c": {"n": 1}}


async def test_increment_many_names_the_documents_that_exist(store: Store) -> None:
    c = store.collection("counters_many")
    assert await c.increment_many({}) == set()
    await c.put_many({"a": {"n": 0}, "b": {"n": 10, "t": {"x": 1}}})
    got = await c.increment_many({"a": {"n": 1}, "b": {"n": -1, "t.x": 2}, "c": {"n": 1}})
    assert got == {"a", "b"}
    assert await c.get_many(["a", "b", "c"]) == {"a": {"n": 1}, "b": {"n": 9, "t": {"x": 3}}}
    assert await c.increment_many({"a": {}, "c": {}}) == {"a"}
    assert await c.increment_many({"c": {"n": 1}}) == set()
    assert await c.get("c") is None


async def test_concurrent_increments_add_up_exactly(store: Store) -> None:
    c = store.collection("counters_race")
    await c.put_many({"k": {"id": "k", "n": 0}, "j": {"id": "j"}})
    results = await asyncio.gather(
        *(c.increment("k", {"n": 1, "t.planned": 2}) for _ in range(200)),
        *(c.increment_many({"k": {"n": -1}, "j": {"n": 3}, "gone": {"n": 1}}) for _ in range(50)),
        *(c.get("k") for _ in range(20)),
        *(c.update("k", {"note": f"n{i}"}) for i in range(20)),
    )
    assert all(r is True for r in results[:200])
    assert all(r == {"k", "j"} for r in results[200:250])
    k = await c.get("k")
    assert k is not None
    assert (k["n"], k["t"]) == (200 - 50, {"planned": 400})
    assert await c.get("j") == {"id": "j", "n": 150}
    assert await c.get("gone") is None


async def test_count_by_groups_documents_per_value(store: Store) -> None:
    c = store.collection("grouped", indexes=("a",))
    assert await c.count_by("status") == {}
    await c.put_many(
        {
            "1": {"a": "x", "status": "delivered", "flag": True, "meta": {"kind": "web"}},
            "2": {"a": "x", "status": "delivered", "flag": False, "meta": {"kind": "x"}},
            "3": {"a": "x", "status": "failed", "flag": True, "n": 2},
            "4": {"a": "y", "status": "pending", "flag": None, "n": 2},
            "5": {"a": "y", "status": None, "n": 3.5},
            "6": {"a": "y", "list": [1]},
        }
    )
    assert await c.count_by("status") == {"delivered": 2, "failed": 1, "pending": 1, None: 2}
    assert await c.count_by("status", {"a": "x"}) == {"delivered": 2, "failed": 1}
    assert await c.count_by("flag", {"a": "x"}) == {True: 2, False: 1}
    assert await c.count_by("meta.kind") == {"web": 1, "x": 1, None: 4}
    assert await c.count_by("n", {"n": {"$gte": 2}}) == {2: 2, 3.5: 1}
    assert await c.count_by("status", {"a": "nobody"}) == {}
    with pytest.raises(ValueError, match="scalars"):
        await c.count_by("list")
    with pytest.raises(ValueError, match="invalid field name"):
        await c.count_by("status') --")


# --- where the backends' own semantics differ: one answer through the interface ----------

SEMANTICS = {
    "a": {"id": "a", "v": 1, "tags": ["x", "y"], "obj": {"k": 1}, "list": [{"b": 1}]},
    "b": {"id": "b", "v": True, "tags": "x", "obj": "text", "list": {"b": 1}},
    "c": {"id": "c", "v": "1", "tags": '["x","y"]', "list": {"b": None}},
    "d": {"id": "d", "v": 1.0, "tags": None},
    "e": {"id": "e", "v": "abc", "n": None},
    "f": {"id": "f", "v": 0},
    "g": {"id": "g", "v": False},
}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # arrays and objects match no condition (MongoDB would look inside the array)
        ({"tags": "x"}, ["b"]),
        ({"tags": {"$in": ["x", "y"]}}, ["b"]),
        ({"tags": '["x","y"]'}, ["c"]),  # SQLite would compare the array's JSON text
        ({"tags": {"$ne": "x"}}, ["c", "d", "e", "f", "g"]),
        ({"tags": None}, ["d", "e", "f", "g"]),
        ({"obj": {"$ne": None}}, ["b"]),
        ({"list.b": 1}, ["b"]),  # not through the array of "a"
        ({"list.b": None}, ["c", "d", "e", "f", "g"]),
        # a boolean is not a number (SQLite's json_extract reads true as 1)
        ({"v": 1}, ["a", "d"]),
        ({"v": True}, ["b"]),
        ({"v": False}, ["g"]),
        ({"v": 0}, ["f"]),
        ({"v": {"$in": [1, True]}}, ["a", "b", "d"]),
        ({"v": {"$in": ["1", 0]}}, ["c", "f"]),
        ({"v": {"$ne": 1}}, ["b", "c", "e", "f", "g"]),
        # ranges compare like with like (SQLite orders every text after every number)
        ({"v": {"$gt": 0}}, ["a", "d"]),
        ({"v": {"$gte": "0"}}, ["c", "e"]),
        ({"v": {"$lt": "b"}}, ["c", "e"]),
        # {"$ne": None}: present and not null (SQLite matched nothing but missing fields)
        ({"n": {"$ne": None}}, []),
        ({"v": {"$ne": None}}, ["a", "b", "c", "d", "e", "f", "g"]),
        ({"tags": {"$ne": None}}, ["b", "c"]),
        ({"n": None}, ["a", "b", "c", "d", "e", "f", "g"]),
    ],
)
async def test_semantics_that_differ_between_backends(
    store: Store, where: dict[str, object], expected: list[str]
) -> None:
    c = store.collection("semantics", indexes=("v", "tags"))
    await c.put_many(SEMANTICS)
    assert sorted(d["id"] for d in await c.find(where)) == expected
    assert await c.count(where) == len(expected)
    assert sorted(k for k, d in SEMANTICS.items() if matches(d, where)) == expected


async def test_ties_and_missing_values_sort_by_key_in_the_same_direction(store: Store) -> None:
    c = store.collection("ties", indexes=("at",))
    docs = {
        "k3": {"id": "k3", "at": "2026-01-02"},
        "k1": {"id": "k1", "at": "2026-01-02"},
        "k2": {"id": "k2", "at": "2026-01-01"},
        "k5": {"id": "k5"},
        "k4": {"id": "k4", "at": None},
        "k6": {"id": "k6", "at": 7},
    }
    await c.put_many(docs)
    ascending = [d["id"] for d in await c.find(order_by="at")]
    assert ascending == ["k4", "k5", "k6", "k2", "k1", "k3"]
    descending = [d["id"] for d in await c.find(order_by="at", descending=True)]
    assert descending == list(reversed(ascending))
    assert [d["id"] for d in await c.find(order_by="at", descending=True, limit=2)] == [
        "k3",
        "k1",
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.find(limit=0), "limit must be a positive integer"),
        (lambda c: c.find(limit=-1), "limit must be a positive integer"),
        (lambda c: c.find(order_by="a; drop"), "invalid field name"),
        (lambda c: c.find({"tags": ["x"]}), "string, number, boolean or None"),
        (lambda c: c.find({"obj": {"k": 1}}), "matching a whole object"),
        (lambda c: c.find({"v": {"$regex": "a"}}), "unsupported query operator"),
        (lambda c: c.find({"$where": "1"}), "unsupported query operator"),
        (lambda c: c.find({"v": {"$in": [None]}}), "cannot hold None"),
        (lambda c: c.find({"v": {"$in": "abc"}}), "list of values"),
        (lambda c: c.find({"v": {"$gt": None}}), "compares strings or numbers"),
        (lambda c: c.find({"v": {"$lt": True}}), "compares strings or numbers"),
        (lambda c: c.find({"v": 2**64}), "beyond 64 bits"),
        (lambda c: c.find({"$or": []}), "non-empty list"),
        (lambda c: c.find({"_id": "a"}), "reserved"),
        (lambda c: c.count({"a-b": 1}), "invalid field name"),
        (lambda c: c.count_by("v", {"v": {"$exists": True}}), "unsupported query operator"),
        (lambda c: c.put("k", {"a.b": 1}), "may not contain '.'"),
        (lambda c: c.put("k", {"n": {"$set": 1}}), "start '\\$'"),
        (lambda c: c.put("k", {"_id": "other"}), "reserved"),
        (lambda c: c.put("k", {"_final_at": "x"}), "reserved"),
        (lambda c: c.insert_many({"k": {"x": [{"a.b": 1}]}}), "may not contain '.'"),
        (lambda c: c.update("k", {"outcome.status": "x"}), "may not contain '.'"),
        (lambda c: c.update("k", {"x": 1}, where={"v": [1]}), "string, number"),
    ],
)
async def test_queries_and_documents_outside_the_subset_are_refused(
    store: Store, call: Any, message: str
) -> None:
    c = store.collection("refused")
    await c.put("k", {"v": 1})
    with pytest.raises(ValueError, match=message):
        await call(c)
    assert await c.get("k") == {"v": 1}


# --- retention: documents past their age after they became final are removed ---------------

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def test_prune_removes_final_documents_past_their_age_and_keeps_the_rest(
    store: Store,
) -> None:
    keep = Expiry(after=timedelta(days=14))
    c = store.collection("claims_kept", indexes=("state",), expiry=keep)
    never = store.collection("no_expiry")
    old = (NOW - timedelta(days=15)).isoformat()
    recent = (NOW - timedelta(days=13)).isoformat()
    await c.put_many(
        {
            "old": {"state": "final", "final_at": old},
            "recent": {"state": "final", "final_at": recent},
            "open": {"state": "waiting"},
            "reopened": {"state": "final", "final_at": old},
            "zulu": {"state": "final", "final_at": "2026-11-01T00:00:00Z"},
            "naive": {"state": "final", "final_at": "2026-11-01T00:00:00"},
            "offset": {"state": "final", "final_at": "2026-11-17T07:00:00+08:00"},
        }
    )
    await never.put("old", {"final_at": old})
    assert await c.update("reopened", {"final_at": None, "state": "waiting"})
    assert await c.update("open", {"state": "final"})  # final, but no time: kept
    assert await c.insert("late", {"state": "final", "final_at": old})
    assert await c.increment_many({"recent": {"n": 1}, "old": {"n": 1}}) == {"recent", "old"}

    removed = await store.prune(NOW)
    assert removed["claims_kept"] == 5  # old, zulu, naive, offset (23:00 UTC), late
    assert "no_expiry" not in removed
    assert sorted(d["state"] for d in await c.find()) == ["final", "final", "waiting"]
    assert set(await c.get_many(["old", "recent", "open", "reopened", "late"])) == {
        "recent",
        "open",
        "reopened",
    }
    assert await c.get("recent") == {"state": "final", "final_at": recent, "n": 1}
    assert await never.get("old") == {"final_at": old}
    assert await store.prune(NOW) == {"claims_kept": 0}
    assert await store.prune(NOW + timedelta(days=2)) == {"claims_kept": 1}


async def test_expiry_reads_a_dotted_field_and_refuses_a_time_it_cannot_read(
    store: Store,
) -> None:
    c = store.collection("ledger_kept", expiry=Expiry(timedelta(days=400), "outcome.at"))
    await c.put("done", {"outcome": {"at": "2025-01-01T00:00:00+00:00"}})
    await c.put("pending", {"outcome": None})
    await c.put("fresh", {"outcome": {"at": NOW.isoformat()}})
    with pytest.raises(ValueError, match=r"outcome\.at must be an ISO-8601 time"):
        await c.put("bad", {"outcome": {"at": "yesterday"}})
    with pytest.raises(ValueError, match=r"outcome\.at must be an ISO-8601 time"):
        await c.update("pending", {"outcome": {"at": 12}})
    assert await store.prune(NOW) == {"ledger_kept": 1}
    assert set(await c.get_many(["done", "pending", "fresh", "bad"])) == {"pending", "fresh"}


def test_an_expiry_must_be_positive_and_name_a_field() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Expiry(timedelta(0))
    with pytest.raises(ValueError, match="invalid field name"):
        Expiry(timedelta(days=1), "a b")


# --- random queries: the backend agrees with the reference semantics --------------------------

_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -2,
    2.5,
    "",
    "1",
    "a",
    "web",
    "ü",
    '["a",1]',
    "{}",
]
_SHAPES: list[Any] = [*_VALUES, ["a", 1], [], {"k": "a"}, {}, [{"k": "a"}]]
_FIELDS = ["f", "g", "o.k", "o.j"]


def _random_doc(rng: random.Random, i: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": f"d{i:03}"}
    for field in ("f", "g"):
        if rng.random() < 0.8:
            doc[field] = rng.choice(_SHAPES)
    roll = rng.random()
    if roll < 0.6:
        doc["o"] = {k: rng.choice(_SHAPES) for k in ("k", "j") if rng.random() < 0.7}
    elif roll < 0.8:
        doc["o"] = rng.choice([[{"k": "a"}], "a", None, 1])
    return doc


def _random_condition(rng: random.Random) -> Any:
    op = rng.choice(["eq", "$lt", "$lte", "$gt", "$gte", "$ne", "$in"])
    if op == "eq":
        return rng.choice(_VALUES)
    if op == "$ne":
        return {op: rng.choice(_VALUES)}
    if op == "$in":
        return {op: rng.sample([v for v in _VALUES if v is not None], rng.randint(0, 3))}
    return {
        op: rng.choice(
            [v for v in _VALUES if isinstance(v, str | int | float) and not isinstance(v, bool)]
        )
    }


def _random_where(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    where: dict[str, Any] = {
        field: _random_condition(rng) for field in rng.sample(_FIELDS, rng.randint(1, 2))
    }
    if depth == 0 and rng.random() < 0.2:
        where["$or"] = [_random_where(rng, 1) for _ in range(rng.randint(1, 3))]
    return where


async def test_random_queries_agree_with_the_reference_semantics(store: Store) -> None:
    rng = random.Random(20261201)
    c = store.collection("random", indexes=("f", "o.k"))
    docs = {f"d{i:03}": _random_doc(rng, i) for i in range(80)}
    await c.put_many(docs)
    for _ in range(400):
        where = _random_where(rng)
        expected = sorted(k for k, d in docs.items() if matches(d, where))
        found = sorted(d["id"] for d in await c.find(where))
        assert found == expected, where


async def test_sqlite_many_document_writes_are_all_or_none(tmp_path: Path) -> None:
    """A write that fails half-way (here a trigger refuses one key of the second chunk) is
    rolled back: the next operation's commit must not commit the first half."""
    from siaran_shared.store import StoreError
    from siaran_shared.store.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "atomic.db")
    c = s.collection("claims")
    await s.connect()
    try:
        await s.db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON claims WHEN NEW.key = 'k450' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        await s.db.commit()
        with pytest.raises(StoreError, match="refused"):
            await c.insert_many({f"k{i}": {"i": i} for i in range(500)})
        await c.put("other", {"i": -1})
        assert await c.count() == 1
        with pytest.raises(StoreError, match="refused"):
            await c.put_many({f"k{i}": {"i": i} for i in range(500)})
        assert await c.count() == 1
    finally:
        await s.close()


async def test_writes_are_counted_per_collection_and_operation(store: Store) -> None:
    from siaran_shared.store.base import DOCUMENTS_WRITTEN, WRITES

    name = f"counted_{random.randrange(1 << 30)}"
    c = store.collection(name, expiry=Expiry(timedelta(days=1), "gone_at"))
    await c.put_many({"a": {"n": 1}, "b": {"n": 2}})  # one round trip, two documents
    await c.insert("c", {"n": 3})
    await c.insert("c", {"n": 4})  # refused, but a write all the same
    await c.update("a", {"n": 5})
    await c.increment_many({"a": {"n": 1}, "b": {"n": 1}})
    await c.delete("b")
    await store.prune()
    old = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    with pytest.raises(ValueError, match=r"\$x"):
        await c.put("bad", {"$x": 1})  # refused before the store: not counted
    writes = {op: n for (coll, op), n in WRITES.items() if coll == name}
    documents = {op: n for (coll, op), n in DOCUMENTS_WRITTEN.items() if coll == name}
    assert writes == {"put": 1, "insert": 2, "update": 1, "increment": 1, "delete": 1, "prune": 1}
    assert documents == {
        "put": 2,
        "insert": 2,
        "update": 1,
        "increment": 2,
        "delete": 1,
        "prune": 0,
    }
    await c.put("old", {"gone_at": old})
    await store.prune()
    assert DOCUMENTS_WRITTEN[name, "prune"] == 1
