from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class ScriptedReceiver:
    """A local HTTP server answering each path from a script: (status, headers, delay)."""

    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str], float]]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, *answers: int | tuple[int, dict[str, str], float]) -> str:
        self.script[path] = [a if isinstance(a, tuple) else (a, {}, 0.0) for a in answers]
        return self.base + path

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(Hit(request.path, dict(request.headers), await request.read(),
                             time.monotonic()))  # fmt: skip
        answers = self.script.get(request.path)
        status, headers, delay = answers.pop(0) if answers else (200, {}, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=status, headers=headers, text="ok" if status < 300 else "no")


@pytest.fixture
async def receiver() -> AsyncIterator[ScriptedReceiver]:
    r = ScriptedReceiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
