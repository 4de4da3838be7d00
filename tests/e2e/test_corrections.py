"""Corrections end to end: a scheduled announcement corrected before its release time
reaches its channel once, as revision 2 (revision 1 never leaves the router's outbox); a
correction of one already delivered follows it as revision 2."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus
from siaran_shared.events.topics import DELIVERIES, RESULTS

from tests.e2e.harness import Receiver, RunningStack, eventually
from tests.e2e.test_fallback import read
from tests.e2e.test_workflow import tagged_channel

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


def announcement(run: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"e2e-corr-{run}", "title": "Jadwal vaksinasi", "body": "Hari Senin.",
            "target": {"regencies": ["73.03"], "tags": [run]}} | fields  # fmt: skip


async def test_a_scheduled_announcement_corrected_before_release_is_posted_once(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await tagged_channel(stack, receiver, run)
    publish_at = (datetime.now(UTC) + timedelta(seconds=8)).isoformat()
    first = announcement(run, publish_at=publish_at)
    announcement_id = first["id"]
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=first)
        assert r.status_code == 202, r.text
        r = await ingest.put(f"/v1/announcements/{announcement_id}",
                             json=first | {"body": "Hari Selasa."})  # fmt: skip
        assert r.status_code == 202, r.text

    async def superseded() -> bool:
        outcomes = await read(stack, RESULTS, DeliveryCompleted, announcement_id)
        return any(o.status is DeliveryStatus.SUPERSEDED and o.revision == 1 for o in outcomes)

    await eventually(superseded, within=30, what="revision 1 superseded in the outbox")
    [posted] = await eventually(lambda: receiver.at(path), within=30, what="the correction")
    assert posted.json["data"]["text"].endswith("Hari Selasa.")
    assert posted.at >= datetime.fromisoformat(publish_at)  # the original release time
    tasks = await read(stack, DELIVERIES, DeliveryPlanned, announcement_id)
    assert [t.revision for t in tasks] == [2]  # revision 1 never reached the publisher


async def test_a_delivered_announcement_is_followed_by_its_correction(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await tagged_channel(stack, receiver, run)
    first = announcement(run)
    announcement_id = first["id"]
    async with stack.client("ingest") as ingest:
        assert (await ingest.post("/v1/announcements", json=first)).status_code == 202
        await eventually(lambda: receiver.at(path), within=30, what="revision 1")
        fixed = first | {"body": "Hari Selasa."}
        r = await ingest.put(f"/v1/announcements/{announcement_id}", json=fixed)
        assert r.status_code == 202, r.text
    await eventually(lambda: len(receiver.at(path)) == 2, within=30, what="revision 2")
    texts = [p.json["data"]["text"] for p in receiver.at(path)]
    assert [t.rsplit("\n", 1)[-1] for t in texts] == ["Hari Senin.", "Hari Selasa."]
    tasks = await read(stack, DELIVERIES, DeliveryPlanned, announcement_id)
    assert [(t.delivery_id, t.revision) for t in tasks] == [
        (f"{announcement_id}:workflow-{run}", 1),
        (f"{announcement_id}:workflow-{run}", 2),
    ]
