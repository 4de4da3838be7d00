"""Store backends for the contract suite: SQLite always; MongoDB when one can be reached."""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from siaran_shared.store import Store
from siaran_shared.store.sqlite import SQLiteStore


def _engine_answers(path: str) -> bool:
    if not Path(path).exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1)
        return sock.connect_ex(path) == 0


@cache
def _mongo_url() -> tuple[str | None, str]:
    """A MongoDB URL to test against, or None and the reason why there is none."""
    url = os.environ.get("SIARAN_TEST_MONGODB_URL")
    if url:
        return url, "SIARAN_TEST_MONGODB_URL"
    if shutil.which("docker") is None:
        return None, "no SIARAN_TEST_MONGODB_URL and no docker client"
    if not os.environ.get("DOCKER_HOST") and not _engine_answers("/var/run/docker.sock"):
        return None, "no SIARAN_TEST_MONGODB_URL and no Docker engine at /var/run/docker.sock"
    return "testcontainers", "testcontainers"


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    url, why = _mongo_url()
    if url is None:
        pytest.skip(f"MongoDB store contract skipped: {why}")
    if url != "testcontainers":
        yield url
        return
    with _replica_set() as started:
        yield started


@contextmanager
def _replica_set() -> Iterator[str]:
    """MongoDB 8 as production runs it: a replica set (of one member), since the store
    writes many documents in one transaction."""
    from pymongo import MongoClient
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    container = (
        DockerContainer("mongo:8.0")
        .with_command("--replSet rs0 --bind_ip_all")
        .with_exposed_ports(27017)
        .waiting_for(LogMessageWaitStrategy(re.compile("waiting for connections", re.I)))
    )
    with container:
        url = (
            f"mongodb://{container.get_container_host_ip()}:"
            f"{container.get_exposed_port(27017)}/?directConnection=true"
        )
        with MongoClient(url, serverSelectionTimeoutMS=10_000) as client:
            members = [{"_id": 0, "host": "localhost:27017"}]
            client.admin.command("replSetInitiate", {"_id": "rs0", "members": members})
            deadline = time.monotonic() + 30
            while not client.admin.command("hello").get("isWritablePrimary"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the MongoDB test replica set elected no primary")
                time.sleep(0.2)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("mongodb", marks=pytest.mark.mongo)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s: Store = SQLiteStore(tmp_path / "contract.db")
    else:
        from siaran_shared.store.mongo import MongoStore

        url = request.getfixturevalue("mongo_url")
        s = MongoStore(url, f"siaran_contract_{uuid.uuid4().hex[:8]}")
    await s.connect()
    try:
        yield s
    finally:
        if request.param == "mongodb":
            from siaran_shared.store.mongo import MongoStore

            assert isinstance(s, MongoStore)
            await s.database.client.drop_database(s.database.name)
        await s.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    url, why = _mongo_url()
    if url is None:
        terminalreporter.write_line(f"store contract: MongoDB backend skipped ({why}); SQLite ran")
