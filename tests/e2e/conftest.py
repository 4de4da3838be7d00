from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.harness import Receiver, RunningStack, start_stack


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    home: Path = tmp_path_factory.mktemp("siaran-e2e")
    secrets = home / "secrets"
    secrets.mkdir()
    (secrets / "E2E_HOOK_SECRET").write_text("e2e-signing-secret-value\n")
    running = await start_stack(home, {"SIARAN_SECRETS_DIR": str(secrets)})
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
