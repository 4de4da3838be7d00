"""Completion callbacks against a real local HTTP receiver: signed, sent once, retried on
408/429/5xx after the time asked, final on other 4xx, resumed after a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from fastapi import FastAPI
from siaran_metrics.app import create_app
from siaran_metrics.completions import CallbackState, CompletionRecord
from siaran_metrics.config import MetricsSettings
from siaran_shared.events import AnnouncementAccepted, DeliveryStatus, Event, utcnow
from siaran_shared.events.topics import ANNOUNCEMENTS, PLANS, RESULTS
from siaran_shared.messaging import ce_headers
from siaran_shared.settings import Settings
from siaran_shared.signing import sign, standard_signature
from siaran_shared.testing import ServiceUnderTest, service_under_test

SECRET = "callback-signing-secret-value"
LATER = timedelta(hours=1)


@dataclass
class Receiver:
    """Answers each request with the next of `answers` (then 200), and keeps them."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((dict(request.headers), await request.read()))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="echo " + SECRET)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/done", r.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    r.base = f"http://127.0.0.1:{port}"
    try:
        yield r
    finally:
        await runner.cleanup()


Running = Callable[[], AbstractAsyncContextManager[ServiceUnderTest]]


@pytest.fixture
def running(tmp_path: Path) -> Running:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "CB_SECRET").write_text(SECRET + "\n")

    def make(s: Settings) -> FastAPI:
        return create_app(MetricsSettings(**s.model_dump(exclude_unset=True)))

    return lambda: service_under_test(make, tmp_path, secrets_dir=secrets)


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


async def complete(sut: ServiceUnderTest, make: SimpleNamespace, **callback: Any) -> None:
    """Announcement a1 with this callback, delivered to one channel."""
    accepted: AnnouncementAccepted = make.accepted()
    announcement = accepted.announcement.model_copy(update=callback)
    await send(sut, ANNOUNCEMENTS, accepted.model_copy(update={"announcement": announcement}), "a1")
    await send(sut, PLANS, make.plan(make.planned("bantaeng-web")), "a1")
    await send(sut, RESULTS, make.outcome("bantaeng-web", DeliveryStatus.DELIVERED), "a1")


async def send_due(sut: ServiceUnderTest, after: timedelta = timedelta(0)) -> int:
    tried: int = await sut.app.state.callbacks.send_due(utcnow() + after)
    return tried


async def record(sut: ServiceUnderTest) -> CompletionRecord:
    found = await sut.app.state.handlers.completer.completions.get("a1:r1:completed")
    assert found is not None
    return found  # type: ignore[no-any-return]


async def test_the_callback_arrives_once_signed_with_the_report(
    running: Running, receiver: Receiver, make: SimpleNamespace
) -> None:
    async with running() as sut:
        await complete(sut, make, callback_url=f"{receiver.base}/done", callback_secret="CB_SECRET")
        assert await send_due(sut) == 1
        assert await send_due(sut, LATER) == 0
    [(headers, body)] = receiver.got
    event = json.loads(body)
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert (event["id"], event["type"]) == (
        "a1:r1:completed",
        "id.siaran.announcement.completed.v1",
    )
    assert (event["data"]["delivered"], event["data"]["pending"]) == (1, 0)
    assert (event["data"]["status"], event["data"]["revision"]) == ("completed", 1)
    assert headers["Idempotency-Key"] == headers["webhook-id"] == "a1:r1:completed"
    assert headers["X-Siaran-Signature"] == sign(body, SECRET)
    stamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == standard_signature(
        "a1:r1:completed", stamp, body, SECRET
    )


async def test_retried_after_a_5xx_and_the_retry_after_asked_even_across_a_restart(
    running: Running, receiver: Receiver, make: SimpleNamespace
) -> None:
    receiver.answers = [(503, {}), (429, {"Retry-After": "120"})]
    async with running() as sut:
        await complete(sut, make, callback_url=f"{receiver.base}/done")
        await send_due(sut)
        assert (await record(sut)).callback is CallbackState.PENDING
        await send_due(sut, LATER)
        waiting = await record(sut)
        assert waiting.due_at is not None
        assert waiting.due_at >= utcnow() + timedelta(seconds=110)
        assert (waiting.attempts, waiting.response) == (2, "HTTP 429")
    async with running() as sut:  # a restart resumes the schedule
        assert await send_due(sut) == 0  # not due yet
        assert await send_due(sut, LATER) == 1
        assert (await record(sut)).callback is CallbackState.DELIVERED
        assert await send_due(sut, 2 * LATER) == 0
    assert len(receiver.got) == 3
    assert "X-Siaran-Signature" not in receiver.got[0][0]  # no secret named: unsigned


@pytest.mark.parametrize(
    ("callback", "answers", "requests", "why"),
    [
        ({"callback_url": "{base}/done"}, [(400, {})], 1, "HTTP 400"),
        ({"callback_url": "{base}/done", "callback_secret": "NOPE"}, [], 0, "'NOPE' not found"),
        ({"callback_url": "http://169.254.169.254/done"}, [], 0, "endpoint refused"),
    ],
)
async def test_a_final_answer_ends_the_callback_without_a_retry(
    running: Running,
    receiver: Receiver,
    make: SimpleNamespace,
    callback: dict[str, str],
    answers: list[tuple[int, dict[str, str]]],
    requests: int,
    why: str,
) -> None:
    receiver.answers = answers
    async with running() as sut:
        await complete(sut, make, **{k: v.format(base=receiver.base) for k, v in callback.items()})
        await send_due(sut)
        assert await send_due(sut, LATER) == 0
        failed = await record(sut)
    assert len(receiver.got) == requests
    assert failed.callback is CallbackState.FAILED
    assert failed.response is not None
    assert why in failed.response
    assert SECRET not in failed.response


async def test_two_senders_finding_it_due_at_once_send_it_once(
    running: Running, receiver: Receiver, make: SimpleNamespace
) -> None:
    """Two metrics instances (or rounds) reading the same due callback: one claims it."""
    async with running() as sut:
        await complete(sut, make, callback_url=f"{receiver.base}/done")
        await asyncio.gather(send_due(sut), send_due(sut))
        assert (await record(sut)).callback is CallbackState.DELIVERED
    assert len(receiver.got) == 1
