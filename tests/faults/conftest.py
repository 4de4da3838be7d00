from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.e2e.harness import Receiver


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
