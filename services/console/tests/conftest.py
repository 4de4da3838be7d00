"""A console app whose ingest, router and metrics are FakeApis, and a browser-like client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from siaran_console.app import create_app
from siaran_console.config import ConsoleSettings

from services.console.tests.fakes import ADMIN_KEY, INGEST, METRICS, ROUTER, FakeApis

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings(home: Path, **extra: object) -> ConsoleSettings:
    return ConsoleSettings(
        home=home,
        console_ingest_url=INGEST,
        console_router_url=ROUTER,
        console_metrics_url=METRICS,
        console_live_interval_seconds=0.01,
        console_live_max_seconds=0.2,
        **extra,  # type: ignore[arg-type]
    )


class Browser:
    """An httpx client on the console app that keeps its cookie and reads CSRF tokens."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def csrf(self, path: str = "/signin") -> str:
        page = await self.client.get(path)
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def post(self, path: str, data: dict[str, object], *, from_page: str) -> httpx.Response:
        token = await self.csrf(from_page)
        return await self.client.post(path, data={"csrf_token": token, **data})  # type: ignore[dict-item]

    async def sign_in(self, key: str = ADMIN_KEY) -> httpx.Response:
        return await self.post("/signin", {"api_key": key}, from_page="/signin")


@pytest.fixture
def apis() -> FakeApis:
    return FakeApis()


@pytest.fixture
def app(apis: FakeApis, tmp_path: Path) -> FastAPI:
    return create_app(settings(tmp_path), transport=apis.transport())


@pytest_asyncio.fixture
async def browser(app: FastAPI) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield Browser(client, app)
    await app.state.console.backends.close()
