from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from siaran_shared.store import Store, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """The router's store on SQLite in the test's folder."""
    s = open_store(f"sqlite:///{tmp_path / 'router.db'}", "router")
    await s.connect()
    yield s
    await s.close()
