"""The CLI's tests run against a real router process (with its broker) from the e2e harness."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.harness import RunningStack, start_stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def router(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    running = await start_stack(tmp_path_factory.mktemp("siaran-cli"), services=("router",))
    try:
        yield running
    finally:
        await running.stop()
