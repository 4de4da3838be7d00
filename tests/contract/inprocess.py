"""A service's app in this process for schemathesis: FastStream's in-memory broker and a
temporary SQLite store, started by the ASGI lifespan that schemathesis runs on its own event
loop thread (so the app's start, every request and its stop share one loop)."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from siaran_shared.auth import KeyRing
from siaran_shared.settings import Settings
from siaran_shared.testing import ServiceUnderTest, service_under_test, settings_for_test

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class InProcess:
    """An ASGI app whose lifespan runs `service_under_test` and whose requests go to it."""

    def __init__(self, create_app: Callable[[Settings], FastAPI]) -> None:
        self._create_app = create_app
        self._exit = AsyncExitStack()
        self.sut: ServiceUnderTest | None = None

    def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI document, from an app that is built but never started (building
        one connects nothing and writes nothing under its home)."""
        home = Path(tempfile.gettempdir()) / "siaran-openapi-unused"
        return self._create_app(settings_for_test(home)).openapi()

    @functools.cached_property
    def home(self) -> Path:
        """The app's state folder, removed when its lifespan ends."""
        return Path(tempfile.mkdtemp(prefix="siaran-contract-"))

    @functools.cached_property
    def admin_key(self) -> str:
        """An admin key, usable before the first request starts the app."""
        keys = settings_for_test(self.home).resolved_api_keys_file
        return KeyRing(keys).create("contract-admin", "admin")[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.sut is not None, "the lifespan has not started"
        await self.sut.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._exit.callback(shutil.rmtree, self.home, ignore_errors=True)
                self.sut = await self._exit.enter_async_context(
                    service_under_test(self._create_app, self.home)
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.sut = None
                await self._exit.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
