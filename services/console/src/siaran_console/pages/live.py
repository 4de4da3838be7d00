"""Live updates: Server-Sent Events fed by the metrics API, one stream per open page.

A stream asks metrics every SIARAN_CONSOLE_LIVE_INTERVAL_SECONDS, sends an event only when
what the page shows changed, ends when the session ends (sign-out, expiry) or after
SIARAN_CONSOLE_LIVE_MAX_SECONDS (the browser's EventSource then reconnects by itself).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from siaran_console.backends import ApiProblem
from siaran_console.pages.announcements import ListFilter, recent_rows
from siaran_console.sessions import Session
from siaran_console.tiles import live_view
from siaran_console.web import backends_of, console_of, key_of, signed_in

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]
#: A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event; JSON on one line, so no data line can end the event early."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(
    request: Request, read: Callable[[], Awaitable[Any]], event: str
) -> AsyncIterator[str]:
    """Send `read()` as `event` whenever it changes, until the page or the session goes."""
    console = console_of(request)
    settings = console.settings
    token = request.cookies.get(console.cookie_name)
    deadline = time.monotonic() + settings.console_live_max_seconds
    last: Any = None
    quiet_since = time.monotonic()
    yield f"retry: {int(settings.console_live_interval_seconds * 2000)}\n\n"
    while time.monotonic() < deadline and not await request.is_disconnected():
        if console.sessions.get(token, touch=False) is None:
            yield sse("end", {"reason": "signed_out"})
            return
        try:
            current = await read()
        except ApiProblem as problem:
            current = {"error": problem.message, "status": problem.status}
        if current != last:
            yield sse(event, current)
            last, quiet_since = current, time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(settings.console_live_interval_seconds)


def _events(source: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        source,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/announcements/{announcement_id}/events")
async def delivery_events(
    request: Request, session: SignedIn, announcement_id: str
) -> StreamingResponse:
    backends, key = backends_of(request), key_of(session)

    async def read() -> dict[str, Any]:
        try:
            return live_view(await backends.report(key, announcement_id))
        except ApiProblem as problem:
            if problem.status == 404:  # accepted, not in the ledger yet
                return live_view({})
            raise

    return _events(stream(request, read, "report"))


@router.get("/events/announcements")
async def list_events(request: Request, session: SignedIn) -> StreamingResponse:
    only = ListFilter.of(request.query_params)  # the page's own filter

    async def read() -> list[dict[str, Any]]:
        rows = await recent_rows(request, session, only)
        return [
            {
                k: r[k]
                for k in ("id", "planned", "delivered", "failed", "pending", "percent", "state")
            }
            for r in rows
        ]

    return _events(stream(request, read, "list"))
