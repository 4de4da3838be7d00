"""Store backends for the contract suite: SQLite always; MongoDB when one can be reached."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
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
    from testcontainers.mongodb import MongoDbContainer

    with MongoDbContainer("mongo:8.0") as container:
        yield container.get_connection_url()


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
