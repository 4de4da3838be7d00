"""The MongoDB store without a server: the options it gives the client, the filters it sends,
the errors it raises, and the indexes and hidden expiry time it writes (the driver mocked).

The behaviour against a real server is the contract suite's (test_store_contract.py), which
runs wherever SIARAN_TEST_MONGODB_URL or a Docker engine exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest
from bson.errors import InvalidDocument
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WriteConcernError,
)
from siaran_shared.store import Expiry, StoreError, StoreUnavailable, open_store
from siaran_shared.store.mongo import TTL_INDEX, MongoStore
from siaran_shared.store.mongo_query import client_options, mongo_filter, store_error

URL = "mongodb://127.0.0.1:1/"


# --- options ---------------------------------------------------------------------------------


async def test_the_client_gets_explicit_timeouts_and_majority_journaled_writes() -> None:
    store = MongoStore(URL, "siaran_ingest")
    try:
        client = store._client
        assert client.write_concern.document == {"w": "majority", "j": True}
        assert client.read_concern.level == "majority"
        assert client.options.timeout == 10.0  # timeoutMS: a whole operation, retries included
        assert client.options.server_selection_timeout == 5.0
        assert client.options.pool_options.socket_timeout == 10.0
        assert client.options.pool_options.connect_timeout == 5.0
        assert client.options.retry_writes
        assert client.options.retry_reads
        assert client.codec_options.tz_aware
    finally:
        await store.close()


def test_a_url_may_set_its_own_timeouts() -> None:
    options = client_options(URL + "?replicaSet=rs0&timeoutMS=30000&SOCKETTIMEOUTMS=1", "x")
    assert "timeoutMS" not in options
    assert "socketTimeoutMS" not in options
    assert options["serverSelectionTimeoutMS"] == 5000
    assert options["appname"] == "x"


@pytest.mark.parametrize(
    "query", ["w=1", "w=0", "journal=false", "j=false", "readConcernLevel=local", "W=2"]
)
def test_a_url_may_not_weaken_durability(query: str) -> None:
    with pytest.raises(ValueError, match="weaker than the store needs"):
        client_options(f"{URL}?{query}", "x")


def test_a_service_with_a_weaker_url_refuses_to_start() -> None:
    with pytest.raises(ValueError, match=r"w=1 is weaker"):
        open_store("mongodb://mongo:27017/?replicaSet=rs0&w=1", "ingest")


def test_a_url_the_driver_cannot_read_is_a_setting_error() -> None:
    with pytest.raises(ValueError, match=r"SIARAN_STORE_URL: .*hostname"):
        open_store("mongodb://", "ingest")


def test_a_url_may_repeat_what_the_store_requires() -> None:
    options = client_options(URL + "?w=majority&journal=true&readConcernLevel=majority", "x")
    assert options["w"] == "majority"
    assert options["journal"] is True


# --- filters ---------------------------------------------------------------------------------

SCALAR = {"$not": {"$type": ["array", "object"]}}
NOT_ARRAY = {"$not": {"$type": "array"}}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"state": "final"}, {"$and": [{"state": SCALAR}, {"state": {"$eq": "final"}}]}),
        ({"flag": None}, {"$and": [{"flag": SCALAR}, {"flag": None}]}),
        (
            {"outcome.status": {"$in": ("a", "b")}},
            {
                "$and": [
                    {"outcome": NOT_ARRAY},
                    {"outcome.status": SCALAR},
                    {"outcome.status": {"$in": ["a", "b"]}},
                ]
            },
        ),
        (
            {"n": {"$gte": 1, "$lt": 5}, "$or": [{"a": 1}, {"b": {"$ne": None}}]},
            {
                "$and": [
                    {"n": SCALAR},
                    {"n": {"$gte": 1, "$lt": 5}},
                    {
                        "$or": [
                            {"$and": [{"a": SCALAR}, {"a": {"$eq": 1}}]},
                            {"$and": [{"b": SCALAR}, {"b": {"$ne": None}}]},
                        ]
                    },
                ]
            },
        ),
    ],
)
def test_queries_become_guarded_filters(where: Any, expected: dict[str, Any]) -> None:
    assert mongo_filter(where) == expected


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServerSelectionTimeoutError("no primary"), StoreUnavailable),
        (AutoReconnect("connection reset"), StoreUnavailable),
        (ExecutionTimeout("operation exceeded time limit", 50), StoreUnavailable),
        (WriteConcernError("waiting for replication timed out", 64), StoreUnavailable),
        (
            OperationFailure("write conflict", 112, {"errorLabels": ["TransientTransactionError"]}),
            StoreUnavailable,
        ),
        (OperationFailure("not authorized on siaran_ingest", 13), StoreError),
        (OperationFailure("bad value", 2), StoreError),
        (InvalidDocument("key must not contain '.'"), ValueError),
        (OperationFailure("Cannot apply $inc to a value of non-numeric type", 14), ValueError),
    ],
)
def test_driver_errors_become_the_stores_own(error: Exception, expected: type[Exception]) -> None:
    mapped = store_error(error)
    assert type(mapped) is expected
    assert str(error) in str(mapped)


# --- the collection against a mocked driver ------------------------------------------------


class FakeDriver:
    """AsyncMongoClient's shape, as far as the store uses it."""

    def __init__(self, hello: dict[str, Any]) -> None:
        self.admin = MagicMock(command=AsyncMock(return_value=hello))
        self.db = MagicMock(command=AsyncMock())
        self.colls: dict[str, MagicMock] = {}
        self.db.__getitem__.side_effect = self._coll

    def _coll(self, name: str) -> MagicMock:
        if name not in self.colls:
            coll = MagicMock()
            for method in ("create_index", "find_one", "replace_one", "update_one", "insert_one"):
                setattr(coll, method, AsyncMock())
            coll.bulk_write = AsyncMock()
            self.colls[name] = coll
        return self.colls[name]

    def __getitem__(self, name: str) -> MagicMock:
        return self.db

    async def close(self) -> None:
        return None


@pytest.fixture
async def mocked() -> tuple[MongoStore, FakeDriver]:
    store = MongoStore(URL, "siaran_test")
    await store._client.close()
    driver = FakeDriver({"setName": "rs0", "isWritablePrimary": True})
    store._client = driver  # type: ignore[assignment]
    return store, driver


async def test_indexes_and_the_ttl_index_are_made_at_connect(
    mocked: tuple[MongoStore, FakeDriver],
) -> None:
    store, driver = mocked
    store.collection("claims", ("state", "due"), expiry=Expiry(timedelta(days=14)))
    store.collection("plain")
    await store.connect()
    calls = driver.colls["claims"].create_index.await_args_list
    assert [c.args[0] for c in calls] == [[("state", 1)], [("due", 1)], [("_final_at", 1)]]
    assert calls[2].kwargs == {"name": TTL_INDEX, "expireAfterSeconds": 14 * 86400}
    driver.colls["claims"].find_one.return_value = {"_id": "k", "state": "x"}
    assert await store.collection("claims").get("k") == {"state": "x"}
    assert driver.colls["claims"].create_index.await_count == 3  # not again on the hot path
    driver.colls["claims"].find_one.assert_awaited_with({"_id": "k"}, {"_final_at": 0})


async def test_a_changed_retention_changes_the_ttl_index(
    mocked: tuple[MongoStore, FakeDriver],
) -> None:
    store, driver = mocked
    store.collection("ledger", expiry=Expiry(timedelta(days=400)))
    conflict = OperationFailure("An equivalent index already exists with different options", 85)
    driver._coll("ledger").create_index.side_effect = conflict
    await store.connect()
    driver.db.command.assert_awaited_once_with(
        {"collMod": "ledger", "index": {"name": TTL_INDEX, "expireAfterSeconds": 400 * 86400}}
    )


async def test_a_standalone_server_is_refused(mocked: tuple[MongoStore, FakeDriver]) -> None:
    store, driver = mocked
    driver.admin.command.return_value = {"isWritablePrimary": True}
    with pytest.raises(StoreUnavailable, match="replica set"):
        await store.connect()


async def test_the_final_time_is_kept_as_a_date_beside_the_document(
    mocked: tuple[MongoStore, FakeDriver],
) -> None:
    store, driver = mocked
    claims = store.collection("claims", expiry=Expiry(timedelta(days=14)))
    await claims.put("k", {"state": "final", "final_at": "2026-11-30T08:00:00+08:00"})
    query, stored = driver.colls["claims"].replace_one.await_args.args
    assert query == {"_id": "k"}
    assert stored == {
        "_id": "k",
        "state": "final",
        "final_at": "2026-11-30T08:00:00+08:00",
        "_final_at": datetime(2026, 11, 30, tzinfo=UTC),
    }
    await claims.update("k", {"final_at": None}, where={"state": "final"})
    query, change = driver.colls["claims"].update_one.await_args.args
    assert change == {"$set": {"final_at": None, "_final_at": None}}
    guarded = {"$and": [{"state": SCALAR}, {"state": {"$eq": "final"}}]}
    assert query == {"$and": [{"_id": "k"}, guarded]}
    await claims.update("k", {"state": "waiting"})
    assert driver.colls["claims"].update_one.await_args.args == (
        {"_id": "k"},
        {"$set": {"state": "waiting"}},
    )


async def test_driver_failures_reach_callers_as_store_errors(
    mocked: tuple[MongoStore, FakeDriver],
) -> None:
    store, driver = mocked
    c = store.collection("things")
    await store.connect()
    driver.colls["things"].find_one.side_effect = ServerSelectionTimeoutError("no primary")
    with pytest.raises(StoreUnavailable, match="no primary"):
        await c.get("k")
    driver.colls["things"].insert_one.side_effect = DuplicateKeyError("dup", 11000)
    assert await c.insert("k", {"a": 1}) is False
    driver.colls["things"].update_one.side_effect = OperationFailure("not authorized", 13)
    with pytest.raises(StoreError, match="not authorized"):
        await c.update("k", {"a": 2})


class FakeSession:
    """An AsyncClientSession whose with_transaction runs the callback once, recording it."""

    def __init__(self) -> None:
        self.transactions = 0

    async def __aenter__(self) -> FakeSession:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def with_transaction(self, callback: Any) -> Any:
        self.transactions += 1
        return await callback(self)


async def test_writes_of_many_documents_run_in_one_transaction(
    mocked: tuple[MongoStore, FakeDriver],
) -> None:
    store, driver = mocked
    session = FakeSession()
    driver.start_session = MagicMock(return_value=session)  # type: ignore[attr-defined]
    c = store.collection("bulk")
    await store.connect()
    coll = driver.colls["bulk"]
    await c.put("one", {"n": 1})  # one document: no transaction needed
    assert session.transactions == 0
    await c.put_many({"a": {"n": 1}, "b": {"n": 2}})
    assert session.transactions == 1
    assert coll.bulk_write.await_args.kwargs == {"ordered": True, "session": session}
    coll.bulk_write.return_value = MagicMock(matched_count=2)
    assert await c.increment_many({"a": {"n": 1}, "b": {"n": 1}}) == {"a", "b"}
    assert session.transactions == 2
    assert coll.bulk_write.await_args.kwargs == {"ordered": True, "session": session}
