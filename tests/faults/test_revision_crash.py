"""The publisher killed with SIGKILL while a correction's deliveries are in flight, then
restarted: every delivery's revision 2 arrives, no revision 1 arrives after its revision 2,
each (delivery, revision) is posted once at a de-duplicating receiver, and no revision 1
that never reached the receiver is reported delivered (it is superseded)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiokafka import AIOKafkaProducer
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus, utcnow
from siaran_shared.events.topics import DELIVERIES, RESULTS
from siaran_shared.messaging import ce_headers

from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end, start_stack
from tests.faults.helpers import FAULT_ENV

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(300)]

CHANNELS = 200
#: every this-many-th channel answers its first request 503: its revision 1 is on the
#: durable schedule when revision 2 comes
FLAKY_EVERY = 4


class SlowReceiver(Receiver):
    """Answers each request after a moment, so that the deliveries are still in flight when
    the publisher is killed."""

    async def _handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return await super()._handle(request)


@pytest_asyncio.fixture
async def slow() -> AsyncIterator[SlowReceiver]:
    r = SlowReceiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


async def plan(stack: RunningStack, receiver: Receiver, announcement_id: str) -> None:
    """Revision 1, then at once revision 2, of one delivery per channel."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap, linger_ms=5)
    await producer.start()
    try:
        for revision in (1, 2):
            for i in range(CHANNELS):
                channel = f"rev-{i}"
                task = DeliveryPlanned(
                    delivery_id=f"{announcement_id}:{channel}", announcement_id=announcement_id,
                    channel_id=channel, region="73.03", province="73", kind="web",
                    endpoint=f"{receiver.base}/rev/{i}", title=f"Judul r{revision}",
                    text=f"Isi pengumuman, revisi {revision}", accepted_at=utcnow(),
                    revision=revision,
                )  # fmt: skip
                headers = [(k, v.encode()) for k, v in ce_headers(task, source="test").items()]
                await producer.send(
                    DELIVERIES, task.model_dump_json().encode(), key=channel.encode(),
                    headers=headers,
                )  # fmt: skip
        await producer.flush()
    finally:
        await producer.stop()


def posted(receiver: Receiver, announcement_id: str) -> dict[str, list[str]]:
    """The Idempotency-Keys each path accepted (2xx), in the order they arrived."""
    keys: dict[str, list[str]] = defaultdict(list)
    refused: set[str] = set()
    for r in receiver.requests:
        key = r.headers.get("Idempotency-Key", "")
        if not key.startswith(f"{announcement_id}:"):
            continue
        flaky = int(r.path.rsplit("/", 1)[1]) % FLAKY_EVERY == 0
        if flaky and r.path not in refused:  # its first request was answered 503
            refused.add(r.path)
            continue
        keys[r.path].append(key)
    return keys


def first_after_second(keys: list[str]) -> bool:
    """Whether a revision 1 key comes after a revision 2 key."""
    seconds = [i for i, k in enumerate(keys) if k.endswith(":r2")]
    return bool(seconds) and any(not k.endswith(":r2") for k in keys[seconds[0] :])


def corrected(receiver: Receiver, announcement_id: str) -> int:
    return len({k for ks in posted(receiver, announcement_id).values() for k in ks
                if k.endswith(":r2")})  # fmt: skip


async def test_publisher_killed_while_a_correction_is_in_flight(
    tmp_path: Path, slow: SlowReceiver, proof: Callable[..., None]
) -> None:
    # what a crash may post twice is bounded by the sends in flight: the bound asserted below
    env = {**FAULT_ENV, "SIARAN_LOG_LEVEL": "WARNING", "SIARAN_PUBLISHER_MAX_IN_FLIGHT": "64"}
    stack = await start_stack(tmp_path / "revisions", env, services=("publisher",))
    announcement_id = f"fault-rev-{uuid.uuid4().hex[:6]}"
    for i in range(0, CHANNELS, FLAKY_EVERY):
        slow.status_for[f"/rev/{i}"] = [503]
    try:
        await plan(stack, slow, announcement_id)
        await eventually(lambda: corrected(slow, announcement_id) >= 20, within=60,
                         what="the correction's deliveries to start")  # fmt: skip
        at_kill = corrected(slow, announcement_id)
        await stack.stack.services["publisher"].kill()
        await stack.stack.services["publisher"].start()
        await stack.stack.wait_ready(60, ("publisher",))
        try:
            await eventually(
                lambda: corrected(slow, announcement_id) >= CHANNELS, within=200, every=0.25,
                what=f"revision 2 of all {CHANNELS} deliveries",
            )  # fmt: skip
        except AssertionError as exc:
            missing = CHANNELS - corrected(slow, announcement_id)
            raise AssertionError(
                f"{exc}: {missing} missing; the stack's log:\n{stack.tail()}"
            ) from None
        records = await read_to_end(stack.stack.config.bootstrap, RESULTS)
    finally:
        await stack.stop()
    keys = posted(slow, announcement_id)
    per_key = Counter(k for ks in keys.values() for k in ks)
    doubled = sum(n - 1 for n in per_key.values())
    first_posted = sum(1 for k in per_key if not k.endswith(":r2"))
    # no revision 1 after its revision 2, whatever the crash replayed
    late = [path for path, ks in keys.items() if first_after_second(ks)]
    outcomes = [DeliveryCompleted.model_validate_json(r.value) for r in records]
    ours = [o for o in outcomes if o.announcement_id == announcement_id]
    # a revision 1 that never reached the receiver is never reported delivered
    claimed = [o for o in ours if o.revision == 1 and o.status is DeliveryStatus.DELIVERED
               and o.delivery_id not in per_key]  # fmt: skip
    superseded = {o.delivery_id for o in ours if o.status is DeliveryStatus.SUPERSEDED}
    proof(
        "faults: SIGKILL publisher mid correction",
        deliveries=CHANNELS,
        corrected_before_kill=at_kill,
        revision_1_posted=first_posted,
        revision_1_superseded=len(superseded),
        revision_1_after_revision_2=len(late),
        doubled_without_dedup=doubled,
    )
    assert at_kill < CHANNELS, "the kill came after the correction had been delivered"
    assert late == []
    assert claimed == []
    assert superseded, "no revision 1 was still pending when its correction came"
    # what a crash may post twice (same key, absorbed by a de-duplicating receiver) is
    # bounded by the sends in flight at the kill (README: SIARAN_PUBLISHER_MAX_IN_FLIGHT)
    assert doubled <= 64
    assert {o.revision for o in ours if o.status is DeliveryStatus.SUPERSEDED} == {1}
