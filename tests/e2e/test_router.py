"""The router on the real broker: a registry change applies to the next announcement
without a restart, a scheduled announcement is released on time (not early), and a
cancelled scheduled one is never delivered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from siaran_shared.events import DeliveryPlanned
from siaran_shared.events.topics import DELIVERIES

from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def put_channel(stack: RunningStack, channel_id: str, **body: Any) -> None:
    async with stack.client("router") as router:
        r = await router.put(f"/v1/channels/{channel_id}", json=body)
    assert r.status_code in (200, 201), r.text


async def submit(stack: RunningStack, **body: Any) -> str:
    announcement_id = f"e2e-router-{uuid.uuid4().hex[:8]}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json={"id": announcement_id, **body})
    assert r.status_code == 202, r.text
    return announcement_id


async def planned(stack: RunningStack) -> dict[str, list[str]]:
    """Channel ids of every task on the deliveries topic, by announcement id (the poison
    records that tests/e2e/test_metrics_report.py writes to the same stack are no tasks)."""
    tasks: dict[str, list[str]] = {}
    for record in await read_to_end(stack.stack.config.bootstrap, DELIVERIES):
        try:
            task = DeliveryPlanned.model_validate_json(record.value or b"")
        except ValidationError:
            continue
        tasks.setdefault(task.announcement_id, []).append(task.channel_id)
    return tasks


async def test_registry_change_applies_to_the_next_announcement(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    old, new, off = f"/router/{run}/old", f"/router/{run}/new", f"/router/{run}/off"
    channel = {"region": "74.01", "kind": "web", "name": "Buton"}
    target = {"regencies": ["74.01"], "tags": [run]}
    await put_channel(stack, f"buton-{run}", **channel, endpoint=receiver.base + old, tags=[run])
    await put_channel(stack, f"buton-off-{run}", **channel, endpoint=receiver.base + off,
                      tags=[run])  # fmt: skip
    first = await submit(stack, title="Pertama", body="Isi", target=target)
    await eventually(lambda: receiver.at(old) and receiver.at(off), within=45, what="first")

    # change one channel's endpoint and disable the other, no restart
    await put_channel(stack, f"buton-{run}", **channel, endpoint=receiver.base + new, tags=[run])
    await put_channel(stack, f"buton-off-{run}", **channel, endpoint=receiver.base + off,
                      tags=[run], enabled=False)  # fmt: skip
    second = await submit(stack, title="Kedua", body="Isi", target=target)
    await eventually(lambda: receiver.at(new), within=45, what="second at the new endpoint")
    assert [r.json["data"]["announcement_id"] for r in receiver.at(old)] == [first]
    assert [r.json["data"]["announcement_id"] for r in receiver.at(new)] == [second]
    assert [r.json["data"]["announcement_id"] for r in receiver.at(off)] == [first]
    # the second fan-out's tasks are produced together: one arrived, so all are on the topic
    assert (await planned(stack))[second] == [f"buton-{run}"], "disabled channel planned"


async def test_scheduled_announcement_is_released_on_time_not_before(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = f"/router/{run}/scheduled"
    await put_channel(stack, f"scheduled-{run}", region="75.01", kind="web", name="Boalemo",
                      endpoint=receiver.base + path)  # fmt: skip
    publish_at = datetime.now(UTC) + timedelta(seconds=4)
    await submit(stack, title="Terjadwal", body="Isi", target={"regencies": ["75.01"]},
                 publish_at=publish_at.isoformat())  # fmt: skip
    await eventually(lambda: receiver.at(path), within=30, what="scheduled delivery")
    [arrival] = receiver.at(path)
    assert arrival.at >= publish_at, f"delivered at {arrival.at}, before publish_at"


async def test_cancelled_scheduled_announcement_is_never_delivered(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = f"/router/{run}/cancelled"
    await put_channel(stack, f"cancelled-{run}", region="76.01", kind="web", name="Majene",
                      endpoint=receiver.base + path)  # fmt: skip
    publish_at = datetime.now(UTC) + timedelta(seconds=3)
    announcement_id = await submit(
        stack, title="Batal", body="Isi", target={"regencies": ["76.01"]},
        publish_at=publish_at.isoformat(),
    )  # fmt: skip
    async with stack.client("ingest") as ingest:
        r = await ingest.post(f"/v1/announcements/{announcement_id}/cancel")
    assert r.status_code == 202, r.text

    async def reported_cancelled() -> bool:
        async with stack.client("metrics") as metrics:
            r = await metrics.get(f"/v1/announcements/{announcement_id}/report")
        return r.status_code == 200 and r.json()["cancelled"] == 1

    await eventually(reported_cancelled, within=30, what="report says cancelled")
    # a later announcement to the same channel, due after the cancelled one: once it is
    # delivered, a release of the cancelled one (due first) would be on the topic before it
    later = await submit(stack, title="Sesudah", body="Isi", target={"regencies": ["76.01"]},
                         publish_at=(publish_at + timedelta(seconds=1)).isoformat())  # fmt: skip
    await eventually(lambda: receiver.at(path), within=30, what="the later announcement")
    assert [r.json["data"]["announcement_id"] for r in receiver.at(path)] == [later]
    assert announcement_id not in await planned(stack), "a cancelled task was released"
