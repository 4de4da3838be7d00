"""The publisher against the real broker and real local HTTP servers: retries, Retry-After,
permanent failures, no head-of-line blocking, Apprise, and a SIGKILL in the middle of a
3,000-delivery fan-out. Its own stack (broker + publisher) with short retry settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from siaran_cli.dlq import DeadLetter, read_dead_letters, replay
from siaran_cli.stack import Stack
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus, utcnow
from siaran_shared.events.topics import DELIVERIES, DLQ, RESULTS
from siaran_shared.messaging import ce_headers
from siaran_shared.settings import Settings
from siaran_shared.testing.receiver import Receiver

from tests.e2e.harness import eventually, provide_broker, stack_config

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]

ENV = {
    "SIARAN_RETRY_BASE_SECONDS": "0.2",
    "SIARAN_RETRY_MAX_DELAY_SECONDS": "0.5",
    "SIARAN_CLAIM_LEASE_SECONDS": "3",
    "SIARAN_PUBLISHER_SCHEDULE_POLL_SECONDS": "0.1",
    "SIARAN_PUBLISHER_DRAIN_SECONDS": "2",
    "SIARAN_BREAKER_FAILURES": "50",
    # what a SIGKILL may post twice is bounded by the sends in flight: the bound asserted
    "SIARAN_PUBLISHER_MAX_IN_FLIGHT": "64",
    "SIARAN_LOG_LEVEL": "WARNING",
}


@dataclass
class Rig:
    stack: Stack
    receiver: Receiver
    producer: AIOKafkaProducer
    results: list[DeliveryCompleted]
    dead: list[Any]
    home: Path

    async def plan(self, channel: str, endpoint: str, *, partition: int | None = None,
                   announcement: str | None = None, **fields: Any) -> DeliveryPlanned:  # fmt: skip
        a = announcement or f"pub-{uuid.uuid4().hex[:8]}"
        task = DeliveryPlanned(
            delivery_id=f"{a}:{channel}", announcement_id=a, channel_id=channel, region="73.03",
            province="73", kind=fields.pop("kind", "web"), endpoint=endpoint, title="Judul",
            text="Isi pengumuman", accepted_at=utcnow(), **fields,
        )  # fmt: skip
        await self.producer.send(
            DELIVERIES,
            task.model_dump_json().encode(),
            key=channel.encode(),
            partition=partition,
            headers=[(k, v.encode()) for k, v in ce_headers(task, source="test").items()],
        )
        return task

    def outcome(self, delivery_id: str) -> DeliveryCompleted | None:
        return next((r for r in self.results if r.delivery_id == delivery_id), None)


async def _collect(bootstrap: str, topic: str, sink: list[Any], model: Any = None) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                fetch_max_wait_ms=20)  # fmt: skip
    await consumer.start()
    try:
        async for record in consumer:
            sink.append(model.model_validate_json(record.value) if model else record)
    finally:
        await consumer.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    home = tmp_path_factory.mktemp("siaran-publisher-e2e")
    log = (home / "stack.log").open("a", encoding="utf-8")
    config = stack_config(home, ("publisher",), ENV)
    stack = Stack(config, lambda name, line: (log.write(f"{name:>9} | {line}\n"), log.flush()))
    receiver = Receiver()
    await receiver.start()
    collectors: list[asyncio.Task[None]] = []
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap, linger_ms=2)
    try:
        await provide_broker(stack)
        await stack.start_services(("publisher",))
        await stack.wait_ready(90)
        await producer.start()
        results: list[DeliveryCompleted] = []
        dead: list[Any] = []
        collectors = [
            asyncio.create_task(_collect(config.bootstrap, RESULTS, results, DeliveryCompleted)),
            asyncio.create_task(_collect(config.bootstrap, DLQ, dead)),
        ]
        yield Rig(stack, receiver, producer, results, dead, home)
    finally:
        for task in collectors:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*collectors, return_exceptions=True)
        await producer.stop()
        await stack.stop()
        await receiver.stop()
        log.close()


async def test_503_503_200_is_delivered_once_after_three_attempts(rig: Rig) -> None:
    url = rig.receiver.answer("/flaky", 503, 503, 200)
    task = await rig.plan("flaky-web", url)
    outcome = await eventually(lambda: rig.outcome(task.delivery_id), within=30, what="outcome")
    assert outcome.status is DeliveryStatus.DELIVERED
    assert outcome.attempts == 3
    assert outcome.latency_seconds is not None
    assert [h.key for h in rig.receiver.at("/flaky")] == [task.delivery_id] * 3


async def test_429_retry_after_is_honoured(rig: Rig) -> None:
    url = rig.receiver.answer("/busy", (429, {"Retry-After": "2"}, 0.0), 200)
    task = await rig.plan("busy-web", url)
    outcome = await eventually(lambda: rig.outcome(task.delivery_id), within=30, what="outcome")
    assert outcome.status is DeliveryStatus.DELIVERED
    first, second = rig.receiver.at("/busy")
    assert second.monotonic - first.monotonic >= 2.0


async def test_400_fails_at_once_and_is_dead_lettered(rig: Rig) -> None:
    url = rig.receiver.answer("/bad", 400)
    task = await rig.plan("bad-web", url)
    outcome = await eventually(lambda: rig.outcome(task.delivery_id), within=30, what="outcome")
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.attempts == 1
    assert len(rig.receiver.at("/bad")) == 1

    def dead_letter() -> Any:
        return next((d for d in rig.dead if d.key == b"bad-web"), None)

    record = await eventually(dead_letter, within=30, what="dead letter")
    headers = {k: v.decode() for k, v in record.headers}
    assert "HTTP 400" in headers["siaran-error"]
    assert headers["siaran-origin-topic"] == DELIVERIES
    assert json.loads(record.value)["delivery_id"] == task.delivery_id


async def test_dead_letter_replay_delivers_once_the_channel_is_fixed(rig: Rig) -> None:
    url = rig.receiver.answer("/fixed", 422, 200)
    task = await rig.plan("fixed-web", url)
    failed = await eventually(lambda: rig.outcome(task.delivery_id), within=30, what="failure")
    assert failed.status is DeliveryStatus.FAILED
    settings = Settings(kafka_bootstrap=rig.stack.config.bootstrap)

    async def letters() -> list[DeadLetter]:
        found = await read_dead_letters(settings)
        return [d for d in found if d.matches(DELIVERIES, "HTTP 422", "fixed-web", 0)]

    [letter] = await eventually(letters, within=30, what="dead letter")
    assert await replay(settings, [letter]) == 1

    def delivered() -> bool:
        return any(r.delivery_id == task.delivery_id and r.status is DeliveryStatus.DELIVERED
                   for r in rig.results)  # fmt: skip

    await eventually(delivered, within=30, what="delivered after replay")
    assert len(rig.receiver.at("/fixed")) == 2


async def test_a_hanging_channel_does_not_delay_others_on_its_partition(rig: Rig) -> None:
    hang = rig.receiver.answer("/hang", (200, {}, 10.0))
    hung = await rig.plan("hanging-web", hang, partition=0)
    await eventually(lambda: rig.receiver.at("/hang"), within=30, what="hanging request")
    others = [
        await rig.plan(f"quick-{i}", rig.receiver.answer(f"/quick/{i}", 200), partition=0)
        for i in range(20)
    ]
    for t in others:
        await eventually(lambda t=t: rig.outcome(t.delivery_id), within=8, what="quick outcome")
    assert "/hang" not in rig.receiver.answered, "others waited for the hanging channel"
    assert rig.outcome(hung.delivery_id) is None
    outcome = await eventually(lambda: rig.outcome(hung.delivery_id), within=20, what="hung")
    assert outcome.status is DeliveryStatus.DELIVERED


async def test_apprise_channel_is_delivered_through_apprise(rig: Rig) -> None:
    endpoint = f"json://127.0.0.1:{rig.receiver.port}/apprise/telegram"
    task = await rig.plan("apprise-tg", endpoint, kind="telegram")
    outcome = await eventually(lambda: rig.outcome(task.delivery_id), within=30, what="outcome")
    assert outcome.status is DeliveryStatus.DELIVERED
    [hit] = rig.receiver.at("/apprise/telegram")
    assert json.loads(hit.body)["message"] == "Isi pengumuman"


async def test_sigkill_mid_fan_out_then_restart_delivers_every_one_once(rig: Rig) -> None:
    announcement = f"fanout-{uuid.uuid4().hex[:6]}"
    endpoint = rig.receiver.answer("/fanout", *([200] * 0))
    ids = {f"{announcement}:ch-{i:04d}" for i in range(3000)}
    for i in range(3000):
        await rig.plan(f"ch-{i:04d}", endpoint, announcement=announcement)
    await rig.producer.flush()
    await eventually(lambda: len(rig.receiver.at("/fanout")) >= 600, within=60, every=0.01,
                     what="fan-out under way")  # fmt: skip
    publisher = rig.stack.services["publisher"]
    await publisher.kill()
    received_at_kill = len(rig.receiver.at("/fanout"))
    await publisher.start()
    await rig.stack.wait_ready(60, names=("publisher",))

    def all_received() -> bool:
        return {h.key for h in rig.receiver.at("/fanout")} >= ids

    await eventually(all_received, within=90, what="every delivery received")
    keys = Counter(h.key for h in rig.receiver.at("/fanout"))
    assert set(keys) == ids  # a de-duplicating receiver: every delivery exactly once
    twice = sum(1 for n in keys.values() if n > 1)

    def all_outcomes() -> bool:
        return {r.delivery_id for r in rig.results if r.announcement_id == announcement} >= ids

    await eventually(all_outcomes, within=30, what="every outcome on results")
    statuses = {r.status for r in rig.results if r.announcement_id == announcement}
    assert statuses == {DeliveryStatus.DELIVERED}
    report = (f"SIGKILL after {received_at_kill} of 3000 received; a non-deduplicating receiver"
              f" got {twice} twice ({max(keys.values())} at most for one key)")  # fmt: skip
    print("\n" + report)  # noqa: T201 - the issue asks for this number in the test output
    # Bounded by the deliveries between "sent" and "recorded" at the kill: at most
    # SIARAN_PUBLISHER_MAX_IN_FLIGHT (64) claims, plus copies re-queued by an expired lease.
    assert twice <= 128
