from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.harness import Receiver, RunningStack, external_bootstrap, start_stack

#: Secret values the stack is configured with; test_secret_scan looks for them everywhere.
SECRETS = {
    "E2E_HOOK_SECRET": "e2e-signing-secret-value",
    "E2E_PATH_TOKEN": "tok3n-in-an-apprise-path-9f8e7d",
}


def _stack_scope(fixture_name: str, config: pytest.Config) -> str:
    """One stack for the session on bundled brokers (each stack has its own); one per module
    on a named broker, where only one stack may run at a time (see `provide_broker`)."""
    return "module" if external_bootstrap() else "session"


@pytest_asyncio.fixture(scope=_stack_scope, loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    home: Path = tmp_path_factory.mktemp("siaran-e2e")
    secrets = home / "secrets"
    secrets.mkdir()
    for name, value in SECRETS.items():
        (secrets / name).write_text(value + "\n")
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
