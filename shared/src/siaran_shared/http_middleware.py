"""The ASGI middlewares every service's HTTP app runs: the request size limit (413 in the
contract's error shape) and request counts and durations by route template."""

from __future__ import annotations

import time

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from siaran_shared.metric_names import HTTP_REQUEST_SECONDS, HTTP_REQUESTS
from siaran_shared.responses import error_response
from siaran_shared.telemetry import counter, histogram


class BodyLimit:
    """ASGI middleware answering 413 when a request body exceeds `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"request body is larger than the limit of {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class HttpMetrics:
    """ASGI middleware counting requests and their duration by route template.

    Plain ASGI rather than `@app.middleware("http")`, whose BaseHTTPMiddleware costs a task
    and a stream per request.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.requests = counter(HTTP_REQUESTS)
        self.seconds = histogram(HTTP_REQUEST_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            trace.get_current_span().update_name(f"{scope['method']} {route}")
            labels = {"service": self.service, "method": scope["method"], "route": route}
            self.requests.add(1, {**labels, "status": str(status)})
            self.seconds.record(
                time.perf_counter() - start, {"service": self.service, "route": route}
            )
