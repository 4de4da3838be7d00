"""Fallback kinds on the real broker: two channels of a region answer 400 (a permanent
failure), and the region's sms channel receives the announcement once, as a fallback whose
outcome names the failed delivery."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from siaran_shared.events import (
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Event,
    PlannedEntry,
    utcnow,
)
from siaran_shared.events.topics import DELIVERIES, PLANS, RESULTS
from siaran_shared.messaging import ce_headers

from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
REGION, MARKER_REGION = "76.02", "76.03"


async def put_channel(stack: RunningStack, channel_id: str, **body: Any) -> None:
    async with stack.client("router") as router:
        r = await router.put(f"/v1/channels/{channel_id}", json=body)
    assert r.status_code in (200, 201), r.text


async def produce(stack: RunningStack, topic: str, key: str, event: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in ce_headers(event, source="test").items()]
        await producer.send_and_wait(topic, event.model_dump_json().encode(), key=key.encode(),
                                     headers=headers)  # fmt: skip
    finally:
        await producer.stop()


async def read(
    stack: RunningStack, topic: str, model: type[Any], announcement_id: str
) -> list[Any]:
    events = []
    for record in await read_to_end(stack.stack.config.bootstrap, topic):
        try:
            event = model.model_validate_json(record.value or b"")
        except ValidationError:
            continue  # other tests' poison records
        if event.announcement_id == announcement_id:
            events.append(event)
    return events


async def test_a_region_falls_back_to_its_sms_channel_once(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    paths = {name: f"/fallback/{run}/{name}" for name in ("web", "x", "sms", "marker-sms")}
    receiver.status_for[paths["web"]] = [400]
    receiver.status_for[paths["x"]] = [400]
    hook = {"name": "Mamuju", "tags": [run]}
    await put_channel(stack, f"fb-web-{run}", region=REGION, kind="web",
                      endpoint=receiver.base + paths["web"], **hook)  # fmt: skip
    await put_channel(stack, f"fb-x-{run}", region=REGION, kind="x",
                      endpoint=receiver.base + paths["x"], **hook)  # fmt: skip
    await put_channel(stack, f"fb-sms-{run}", region=REGION, kind="sms",
                      endpoint=receiver.base + paths["sms"], **hook)  # fmt: skip
    await put_channel(stack, f"fb-marker-{run}", region=MARKER_REGION, kind="sms",
                      endpoint=receiver.base + paths["marker-sms"], **hook)  # fmt: skip

    announcement_id = f"e2e-fallback-{run}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json={
            "id": announcement_id, "title": "Banjir", "body": "Warga diminta mengungsi.",
            "target": {"regencies": [REGION], "kinds": ["web", "x"], "tags": [run]},
            "fallback": {"kinds": ["sms"]}})  # fmt: skip
    assert r.status_code == 202, r.text

    def failed() -> list[DeliveryCompleted]:
        return [o for o in outcomes if o.status is DeliveryStatus.FAILED]

    outcomes: list[DeliveryCompleted] = []

    async def both_failed() -> bool:
        outcomes[:] = await read(stack, RESULTS, DeliveryCompleted, announcement_id)
        return len(failed()) == 2

    await eventually(both_failed, within=30, what="both channels failed permanently")
    await eventually(lambda: receiver.at(paths["sms"]), within=30, what="the sms fallback")

    # A failure reported after both (same key, same partition) falls back in another region:
    # once that arrives, the router has read both failures of REGION.
    where = {"delivery_id": f"{announcement_id}:marker", "region": MARKER_REGION}
    marker = failed()[0].model_copy(update=where | {"province": "76", "completed_at": utcnow()})
    await produce(stack, RESULTS, announcement_id, marker)
    await eventually(lambda: receiver.at(paths["marker-sms"]), within=30, what="the marker")

    [sms] = receiver.at(paths["sms"])
    assert sms.json["data"]["announcement_id"] == announcement_id
    tasks = await read(stack, DELIVERIES, DeliveryPlanned, announcement_id)
    fallbacks = [t for t in tasks if t.fallback_of and t.region == REGION]
    assert [t.channel_id for t in fallbacks] == [f"fb-sms-{run}"]
    assert fallbacks[0].fallback_of in {o.delivery_id for o in failed()}
    # metrics counts what was planned from the router's summaries, never the tasks: they
    # list every task released, the fallback with the delivery it replaces
    summaries = await read(stack, PLANS, DeliveriesPlanned, announcement_id)
    listed = sorted(e for s in summaries for e in s.entries())
    assert listed == sorted(PlannedEntry.of(t) for t in tasks)

    async def sms_outcome() -> DeliveryCompleted | None:
        found = await read(stack, RESULTS, DeliveryCompleted, announcement_id)
        return next((o for o in found if o.channel_id == f"fb-sms-{run}"), None)

    done = await eventually(sms_outcome, within=30, what="the fallback's outcome")
    assert done.status is DeliveryStatus.DELIVERED
    assert done.fallback_of == fallbacks[0].fallback_of
