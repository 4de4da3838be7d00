"""Poison on every topic: invalid bytes, a wrong schema and an unknown schema version.
Each is dead-lettered with its reason and original bytes, and the flow goes on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from siaran_shared.events import (
    EVENT_TYPES,
    Announcement,
    AnnouncementAccepted,
    Channel,
    ChannelConfigured,
    ChannelHealth,
    ChannelHealthChanged,
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Target,
)
from siaran_shared.events.topics import (
    ANNOUNCEMENTS,
    CHANNEL_HEALTH,
    CHANNELS,
    DELIVERIES,
    DELIVERIES_RETRY,
    DLQ,
    INBOUND,
    PLANS,
    RESULTS,
)

from tests.e2e.harness import Receiver, eventually
from tests.faults.helpers import fault_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]

#: The event type each topic carries, for poison that claims to be one.
TOPIC_TYPES = {
    ANNOUNCEMENTS: "id.siaran.announcement.accepted.v1",
    CHANNELS: "id.siaran.channel.configured.v1",
    DELIVERIES: "id.siaran.delivery.planned.v1",
    DELIVERIES_RETRY: "id.siaran.delivery.planned.v1",
    RESULTS: "id.siaran.delivery.completed.v1",
    PLANS: "id.siaran.deliveries.planned.v1",
    CHANNEL_HEALTH: "id.siaran.channel.health_changed.v1",
}


def valid_event(topic: str) -> dict[str, object]:
    """A valid event of the topic's type, as JSON, to turn into an unknown version."""
    now = datetime.now(UTC)
    announcement = Announcement(id="p1", title="T", body="B", target=Target(national=True))
    event = {
        ANNOUNCEMENTS: AnnouncementAccepted(announcement=announcement, submitted_by="x"),
        CHANNELS: ChannelConfigured(
            channel=Channel(id="c", region="73", kind="web", name="n", endpoint="https://x.id")
        ),
        DELIVERIES: _task(now),
        DELIVERIES_RETRY: _task(now),
        RESULTS: DeliveryCompleted(
            delivery_id="p1:c",
            announcement_id="p1",
            channel_id="c",
            region="73",
            province="73",
            kind="web",
            status=DeliveryStatus.DELIVERED,
            attempts=1,
            accepted_at=now,
        ),
        PLANS: DeliveriesPlanned.of([_task(now)])[0],
        CHANNEL_HEALTH: ChannelHealthChanged(
            channel_id="c", kind="web", province="73", state=ChannelHealth.OPEN
        ),
    }[topic]
    return json.loads(event.model_dump_json())  # type: ignore[no-any-return]


def _task(now: datetime) -> DeliveryPlanned:
    return DeliveryPlanned(
        delivery_id="p1:c", announcement_id="p1", channel_id="c", region="73", province="73",
        kind="web", endpoint="https://x.id", title="T", text="T", accepted_at=now,
    )  # fmt: skip


def poison_for(topic: str, run: str) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """Three kinds of poison per topic: bytes that are not JSON, JSON of the wrong shape,
    and a valid event with an unknown schema version."""
    if topic == INBOUND:
        headers = [("authorization", b"Bearer siaran_nope_nope")]
        unknown_version: dict[str, object] = {
            "schema_version": 99, "title": "T", "body": "B", "target": {"national": True},
        }  # fmt: skip
    else:
        ce_type = TOPIC_TYPES[topic]
        assert ce_type in EVENT_TYPES
        headers = [("ce_specversion", b"1.0"), ("ce_type", ce_type.encode())]
        unknown_version = {**valid_event(topic), "schema_version": 99}
    unknown_version["marker"] = run
    return {
        "bytes": (b"\xff\xfe\x00 not json " + run.encode(), headers),
        "schema": (json.dumps({"schema_version": 1, "marker": run}).encode(), headers),
        "version": (json.dumps(unknown_version, sort_keys=True).encode(), headers),
    }


async def test_poison_on_every_topic_is_dead_lettered_and_flow_continues(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    run = uuid.uuid4().hex[:10]
    stack = await fault_stack(tmp_path / "poison")
    bootstrap = stack.stack.config.bootstrap
    topics = [INBOUND, *TOPIC_TYPES]
    poisons = {topic: poison_for(topic, run) for topic in topics}
    try:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for topic in topics:
                for kind, (value, headers) in poisons[topic].items():
                    await producer.send_and_wait(
                        topic, value, key=f"poison-{kind}-{run}".encode(), headers=headers
                    )
        finally:
            await producer.stop()

        # the flow goes on: a real announcement is delivered after the poison
        async with stack.client("router") as router:
            r = await router.put(
                f"/v1/channels/after-poison-{run}",
                json={"region": "73.03", "kind": "web", "name": "After poison",
                      "endpoint": f"{receiver.base}/after/{run}", "tags": [run]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
        async with stack.client("ingest") as ingest:
            r = await ingest.post(
                "/v1/announcements",
                json={"title": "Setelah racun", "body": "Isi",
                      "target": {"regencies": ["73.03"], "tags": [run]}},
            )  # fmt: skip
            assert r.status_code == 202, r.text
        await eventually(lambda: receiver.at(f"/after/{run}"), within=30, what="delivery")

        expected = {(topic, kind) for topic in topics for kind in ("bytes", "schema", "version")}

        async def dead_lettered() -> dict[tuple[str, str], list[str]]:
            found: dict[tuple[str, str], list[str]] = {}
            for record in await _read_all(bootstrap, DLQ):
                headers = {k: v.decode(errors="replace") for k, v in record.headers}
                key = (record.key or b"").decode()
                if not key.endswith(run):
                    continue
                kind = key.split("-")[1]
                origin = headers.get("siaran-origin-topic", "")
                assert headers.get("siaran-error"), headers
                assert record.value == poisons[origin][kind][0]  # the original bytes
                found.setdefault((origin, kind), []).append(headers["siaran-error"])
            return found if expected <= set(found) else {}

        found = await eventually(dead_lettered, within=30, every=1, what="every poison in DLQ")
    finally:
        await stack.stop()
    proof(
        "faults: poison on every topic",
        topics=len(topics),
        poison_messages=len(expected),
        dead_lettered=len(found),
        missing=len(expected - set(found)),
    )
    assert expected <= set(found)


async def _read_all(bootstrap: str, topic: str) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[object] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                return records
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
        await asyncio.sleep(0)
