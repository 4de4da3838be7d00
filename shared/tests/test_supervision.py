"""Background loops that die take the process with them: a crashed, returned or cancelled
supervised task fails GET /healthz and asks the process to stop; a shutdown does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.service import Runtime, Supervisor, build_runtime, create_service_app
from siaran_shared.testing import settings_for_test


async def _until(condition: Any, rounds: int = 100) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


@asynccontextmanager
async def _client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(runtime, title="t", description="d")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_crashed_scheduler_loop_fails_healthz(tmp_path: Path) -> None:
    runtime = build_runtime("publisher", settings_for_test(tmp_path))
    go = asyncio.Event()

    async def schedule() -> None:
        await go.wait()
        raise RuntimeError("store gone")

    async def tally() -> None:
        await asyncio.Event().wait()  # runs until cancelled

    runtime.run_in_background("schedule", schedule)
    runtime.run_in_background("tally", tally)
    stopped: list[bool] = []
    runtime.supervisor.on_failure = lambda: stopped.append(True)
    async with _client(runtime) as client:
        runtime.start_background()
        assert (await client.get("/healthz")).status_code == 200
        go.set()
        await _until(lambda: runtime.supervisor.failures)
        r = await client.get("/healthz")
    await runtime.supervisor.stop()
    assert r.status_code == 503
    # the exception's text stays in the log: /healthz answers anyone
    assert r.json()["problems"] == {"schedule": "crashed: RuntimeError"}
    assert stopped == [True]  # run_service shuts the server down: the process exits


async def test_a_consumer_loop_that_ends_fails_healthz(tmp_path: Path) -> None:
    runtime = build_runtime("router", settings_for_test(tmp_path))

    @runtime.broker.subscriber("siaran.announcements.v1", batch=True)
    async def handle(_: Any, msg: KafkaMessage) -> None:
        pass

    go = asyncio.Event()

    async def consume_loop() -> None:  # as FastStream's loop does on ConsumerStoppedError
        await go.wait()

    (subscriber,) = runtime.broker.subscribers
    subscriber.tasks.append(asyncio.create_task(consume_loop()))  # type: ignore[attr-defined]
    async with _client(runtime) as client:
        runtime.start_background()
        go.set()
        await _until(lambda: runtime.supervisor.failures)
        r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["problems"] == {"consumer siaran.announcements.v1": "returned"}


async def test_shutdown_is_no_failure() -> None:
    supervisor = Supervisor()
    failed: list[bool] = []
    supervisor.on_failure = lambda: failed.append(True)
    watched = asyncio.create_task(asyncio.Event().wait())
    supervisor.watch("consumer", watched)
    supervisor.start("loop", asyncio.Event().wait)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    await supervisor.stop()
    watched.cancel()  # what the broker's own stop does to its consume loops
    await asyncio.gather(watched, return_exceptions=True)
    assert supervisor.failures == {}
    assert failed == []
