"""A real local HTTP server standing in for the channels' webhooks: it answers each path
from a script and records every request it gets. Used by the publisher's unit tests and by
the end-to-end and fault suites."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

#: one scripted answer: the status, extra response headers, seconds to wait before answering
Answer = tuple[int, dict[str, str], float]


@dataclass(frozen=True)
class Hit:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    #: when it arrived, wall clock (compares with a `publish_at`)
    at: datetime
    #: when it arrived, monotonic (for intervals: a Retry-After honoured)
    monotonic: float

    @property
    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)

    @property
    def key(self) -> str:
        """The request's Idempotency-Key ("" when it has none)."""
        return self.headers.get("Idempotency-Key", "")


@dataclass
class Receiver:
    """Answers each path from its script (200 once the script runs out); records every hit.

    `port` 0 takes a free port at start; a given port is bound again (a receiver that comes
    back after an outage)."""

    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    #: path -> the answers still to give, in turn
    script: dict[str, list[Answer]] = field(default_factory=dict)
    #: path -> statuses still to give, in turn (a shorthand read after `script`)
    status_for: dict[str, list[int]] = field(default_factory=dict)
    #: path -> when the last answer to it left (monotonic); a hanging answer never gets here
    answered: dict[str, float] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Hit]:
        """The hits, under the name the end-to-end tests use."""
        return self.hits

    def answer(self, path: str, *answers: int | Answer) -> str:
        """Script the path's next answers (a bare status: no headers, no delay); its URL."""
        self.script[path] = [a if isinstance(a, tuple) else (a, {}, 0.0) for a in answers]
        return self.base + path

    def at(self, path: str) -> list[Hit]:
        """The hits on one path, in order."""
        return [h for h in self.hits if h.path == path]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _next(self, path: str) -> Answer:
        answers = self.script.get(path)
        if answers:
            return answers.pop(0)
        statuses = self.status_for.get(path)
        return (statuses.pop(0) if statuses else 200), {}, 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        hit = Hit(request.path, dict(request.headers), body, datetime.now(UTC), time.monotonic())
        self.hits.append(hit)
        status, headers, delay = self._next(request.path)
        if delay:
            await asyncio.sleep(delay)
        self.answered[request.path] = time.monotonic()
        # a refusal echoes the path as sent, as many servers' error pages do
        text = "ok" if status < 300 else f"no: {request.raw_path}"
        return web.Response(status=status, headers=headers, text=text)
