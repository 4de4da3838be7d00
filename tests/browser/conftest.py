"""The real stack (bundled broker, the four services, the console) and Debian's Chromium
driven by Playwright. Skipped, with the reason printed, only when /usr/bin/chromium is absent
(`apt-get install chromium`; Playwright's own browser download is not used)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from siaran_cli.stack import Child, free_port
from siaran_shared.auth import KeyRing
from siaran_shared.settings import Settings

from tests.e2e.harness import Receiver, RunningStack, eventually, stack_scope, start_stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root the sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The marks of every browser test: on the real stack and broker, one event loop for the
#: session; 300 s, not the suite's 120: the first test also starts the stack, and Chromium
#: shares two cores with it (nothing here asserts speed).
MARKS = [
    pytest.mark.e2e,
    pytest.mark.kafka,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(300),
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is absent: install Debian's chromium package to run the browser suite"
    print(f"\ntests/browser skipped: {reason}")  # noqa: T201 - the reason, printed as asked
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Site:
    """The running console and the keys people sign in with."""

    url: str
    stack: RunningStack
    admin_key: str
    regional_key: str  # province:73 (Sulawesi Selatan)
    receiver: Receiver
    writer_key: str = ""  # national, role draft: submissions wait for approval
    editor_key: str = ""  # national, roles draft and approve: approves the others'


async def _start_console(stack: RunningStack, home: Path) -> tuple[Child, str]:
    port = free_port()
    env = {
        **os.environ,
        "SIARAN_HOME": str(home),
        "SIARAN_HOST": "127.0.0.1",
        "SIARAN_PORT": str(port),
        "SIARAN_LOG_FORMAT": "json",
        "SIARAN_CONSOLE_INGEST_URL": stack.url("ingest"),
        "SIARAN_CONSOLE_ROUTER_URL": stack.url("router"),
        "SIARAN_CONSOLE_METRICS_URL": stack.url("metrics"),
        "SIARAN_CONSOLE_LIVE_INTERVAL_SECONDS": "0.5",
        # The router imports Apprise on its first non-http endpoint check: seconds on two
        # cores shared with Chromium and the stack, more than the default 10 s under load.
        "SIARAN_CONSOLE_API_TIMEOUT_SECONDS": "30",
        "PYTHONUNBUFFERED": "1",
    }

    def printer(name: str, line: str) -> None:
        stack.log_handle.write(f"{name:>9} | {line}\n")
        stack.log_handle.flush()

    child = Child("console", [sys.executable, "-m", "siaran_console"], env, printer)
    await child.start()
    url = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        assert child.running, f"the console exited:\n{stack.tail()}"
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return (await client.get(url + "/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(ready, within=60, every=0.2, what="console ready")
    return child, url


async def _register_channels(stack: RunningStack, receiver: Receiver) -> None:
    """A web channel in every province and one national channel, all at the receiver."""
    from siaran_shared.regions import regions

    rows = [
        {
            "id": f"browser-{code}",
            "region": code,
            "kind": "web",
            "name": f"Diskominfo {code}",
            "endpoint": f"{receiver.base}/browser/{code}",
            "tags": ["official"],
        }
        for code in (*regions().provinces, "ID")
    ]
    async with stack.client("router") as router:
        response = await router.post("/v1/channels:import", json={"channels": rows})
    assert response.status_code == 200, response.text

    async def all_known() -> bool:
        async with stack.client("metrics") as metrics:
            coverage = (await metrics.get("/v1/coverage")).json()
        return bool(coverage["channels_active"] >= len(rows))

    await eventually(all_known, within=30, what="channels known to metrics")


async def announcement_id(site: Site) -> str:
    """An announcement to Sulawesi Selatan, in the metrics list."""
    new_id = f"browser-a11y-{uuid.uuid4().hex[:6]}"
    body = {
        "id": new_id,
        "title": "Uji aksesibilitas",
        "body": "Isi.",
        "target": {"provinces": ["73"]},
    }
    async with site.stack.client("ingest") as ingest:
        assert (await ingest.post("/v1/announcements", json=body)).status_code == 202

    async def listed() -> bool:
        async with site.stack.client("metrics") as metrics:
            answer = (await metrics.get("/v1/announcements")).json()
        return any(item["id"] == new_id for item in answer["items"])

    await eventually(listed, what="announcement in the metrics list")
    return new_id


@pytest_asyncio.fixture(scope=stack_scope, loop_scope="session")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    home = tmp_path_factory.mktemp("siaran-browser")
    ring = KeyRing(Settings(home=home).resolved_api_keys_file)
    _, regional = ring.create("sulsel", "province:73")
    _, writer = ring.create("penulis", "national", roles=["draft"])
    _, editor = ring.create("editor", "national", roles=["draft", "approve"])
    receiver = Receiver()
    await receiver.start()
    stack = await start_stack(home)
    console: Child | None = None
    try:
        console, url = await _start_console(stack, home)
        await _register_channels(stack, receiver)
        yield Site(url, stack, stack.key, regional, receiver, writer, editor)
    finally:
        if console is not None:
            await console.stop()
        await stack.stop()
        await receiver.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, site: Site) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=site.url, viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        yield ctx
    finally:
        await ctx.close()


@dataclass
class Watched:
    """A tab's alert() calls (an XSS that ran) and script errors, asserted empty at its end."""

    alerts: list[str]
    errors: list[str]

    def check(self) -> None:
        assert self.alerts == [], f"a script ran: {self.alerts}"
        assert self.errors == [], f"page errors: {self.errors}"


def watch(tab: Page) -> Watched:
    """Record alerts and script errors of a tab; confirm() dialogs are accepted."""
    watched = Watched([], [])

    async def on_dialog(dialog: object) -> None:
        from playwright.async_api import Dialog

        assert isinstance(dialog, Dialog)
        if dialog.type != "confirm":
            watched.alerts.append(dialog.message)
        await dialog.accept()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda error: watched.errors.append(str(error)))
    return watched


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test on any alert() (an XSS that ran) or script error."""
    tab = await context.new_page()
    watched = watch(tab)
    yield tab
    watched.check()
