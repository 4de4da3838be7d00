from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Receiver, RunningStack, stack_scope, start_stack

#: Secret values the stack is configured with; test_secret_scan looks for them everywhere.
SECRETS = {
    "E2E_HOOK_SECRET": "e2e-signing-secret-value",
    "E2E_PATH_TOKEN": "tok3n-in-an-apprise-path-9f8e7d",
}


@pytest_asyncio.fixture(scope=stack_scope, loop_scope="session")
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test on a running stack shows the stack's last warnings and errors: what a
    CI run printed is often all there is to go on."""
    report = yield
    running = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(running, RunningStack) and running.log.exists():
        lines = running.log.read_text(errors="replace").splitlines()
        noted = [line for line in lines if any(w in line for w in _NOTEWORTHY)]
        report.sections.append(("stack log: warnings and errors", "\n".join(noted[-60:])))
    return report


_NOTEWORTHY = ('"level": "warning"', '"level": "error"', '"level": "critical"', "Traceback")
