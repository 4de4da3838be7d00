"""The CLI's tests: against a real router process (with its broker) from the e2e harness, or,
for the client side of routes, against a local HTTP server speaking the contract's shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.e2e.harness import RunningStack, start_stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def router(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    running = await start_stack(tmp_path_factory.mktemp("siaran-cli"), services=("router",))
    try:
        yield running
    finally:
        await running.stop()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    authorization: str
    body: Any


Answer = tuple[int, Any] | Callable[[Call], tuple[int, Any]]


@dataclass
class FakeApi:
    """A real HTTP server answering each (method, path) as a test says, in the contract's
    shapes, and recording every call: it stands in for a service in the CLI's unit tests."""

    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        call = Call(request.method, request.path, dict(request.query),
                    request.headers.get("Authorization", ""),
                    json.loads(raw) if raw else None)  # fmt: skip
        self.calls.append(call)
        answer = self.answers.get((call.method, call.path))
        if answer is None:
            return web.json_response(
                {"error": {"code": "not_found", "message": f"no route {call.path}", "details": []}},
                status=404,
            )
        status, body = answer(call) if callable(answer) else answer
        return web.json_response(body, status=status)


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeApi]:
    api = FakeApi()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", api.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api.url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        await runner.cleanup()
