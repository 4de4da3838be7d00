"""Completion on the real stack: an announcement with a callback URL and a callback secret is
told once, signed, with the final counts, when every delivery is final; the deliveries route
shows the failed channel with the channel's answer and the attempts."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCompleted,
    Fallback,
    Target,
)
from siaran_shared.events.topics import ANNOUNCEMENTS
from siaran_shared.messaging import ce_headers
from siaran_shared.signing import sign

from tests.e2e.conftest import SECRETS
from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]

CHANNELS = {"web": "73.03", "x": "73.71"}


async def channels(stack: RunningStack, receiver: Receiver, run: str) -> None:
    """A web channel that takes the post and an x channel that answers 400 (final)."""
    async with stack.client("router") as router:
        for kind, region in CHANNELS.items():
            r = await router.put(
                f"/v1/channels/cb-{kind}-{run}",
                json={"region": region, "kind": kind, "name": f"{kind} {region}",
                      "endpoint": f"{receiver.base}/hooks/cb-{kind}-{run}", "tags": [f"cb-{run}"]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
    receiver.status_for[f"/hooks/cb-x-{run}"] = [400]


async def announce(stack: RunningStack, event: AnnouncementAccepted) -> None:
    """On siaran.announcements.v1, as ingest publishes an accepted announcement."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in ce_headers(event, source="siaran/ingest").items()]
        key = event.announcement.id.encode()
        await producer.send_and_wait(
            ANNOUNCEMENTS, event.model_dump_json().encode(), key=key, headers=headers
        )
    finally:
        await producer.stop()


def accepted(receiver: Receiver, run: str, n: int) -> AnnouncementAccepted:
    return AnnouncementAccepted(
        announcement=Announcement(
            id=f"cb-{run}-{n}", title="Selesai", body="Isi pengumuman",
            target=Target(provinces=("73",), tags=(f"cb-{run}",)),
            callback_url=f"{receiver.base}/callbacks/{run}-{n}",
            callback_secret="E2E_HOOK_SECRET",
        ),
        submitted_by="e2e",
    )  # fmt: skip


async def test_the_callback_arrives_once_signed_with_the_final_counts(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    await channels(stack, receiver, run)
    first = accepted(receiver, run, 1)
    await announce(stack, first)
    try:
        [callback] = await eventually(
            lambda: receiver.at(f"/callbacks/{run}-1"), within=60, what="the completion callback"
        )
    except AssertionError:
        raise AssertionError(stack.tail(60)) from None
    event = json.loads(callback.body)
    assert (event["id"], event["type"]) == (
        f"cb-{run}-1:r1:completed",
        "id.siaran.announcement.completed.v1",
    )
    data = event["data"]
    assert (data["planned"], data["delivered"], data["failed"], data["pending"]) == (2, 1, 1, 0)
    assert (data["status"], data["revision"], data["complete"]) == ("completed", 1, True)
    secret = SECRETS["E2E_HOOK_SECRET"]
    assert callback.headers["X-Siaran-Signature"] == sign(callback.body, secret)
    assert callback.headers["Content-Type"] == "application/cloudevents+json"

    # A replay of the announcement, then a second announcement told in turn: by the time its
    # callback arrives, a second callback of the first would have come.
    await announce(stack, first)
    await announce(stack, accepted(receiver, run, 2))
    await eventually(lambda: receiver.at(f"/callbacks/{run}-2"), within=60, what="2nd callback")
    assert len(receiver.at(f"/callbacks/{run}-1")) == 1
    completions = [
        AnnouncementCompleted.model_validate_json(r.value)
        for r in await read_to_end(stack.stack.config.bootstrap, ANNOUNCEMENTS)
        if dict(r.headers).get("ce_type") == AnnouncementCompleted.event_type.encode()
    ]
    assert [c.announcement_id for c in completions].count(f"cb-{run}-1") == 1


async def test_the_deliveries_route_lists_the_failed_channel_with_its_reason_and_attempts(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    await channels(stack, receiver, run)
    await announce(stack, accepted(receiver, run, 1))

    async def failed() -> list[dict[str, object]] | None:
        async with stack.client("metrics") as metrics:
            r = await metrics.get(
                f"/v1/announcements/cb-{run}-1/deliveries", params={"status": "failed"}
            )
        items: list[dict[str, object]] = r.json()["items"] if r.status_code == 200 else []
        return items or None

    [item] = await eventually(failed, within=60, what="a failed delivery listed")
    assert (item["channel_id"], item["region"], item["kind"]) == (f"cb-x-{run}", "73.71", "x")
    assert (item["attempts"], item["delivered_at"]) == (1, None)
    assert isinstance(item["reason"], str)
    assert "400" in item["reason"]
    async with stack.client("metrics") as metrics:
        r = await metrics.get(f"/v1/announcements/cb-{run}-1/deliveries", params={"kind": "web"})
    [web] = r.json()["items"]
    assert (web["status"], web["attempts"]) == ("delivered", 1)
    assert web["delivered_at"] is not None


async def test_the_callback_counts_the_fallback_a_permanent_failure_brought(
    stack: RunningStack, receiver: Receiver
) -> None:
    """Only x is targeted and it answers 400; the region's web channel gets it as the
    fallback, and the completion waits for that delivery instead of reporting one failure."""
    run = uuid.uuid4().hex[:8]
    await channels(stack, receiver, run)  # web 73.03 answers 2xx, x 73.71 answers 400
    async with stack.client("router") as router:
        r = await router.put(
            f"/v1/channels/cb-fbweb-{run}",
            json={"region": "73.71", "kind": "web", "name": "web 73.71",
                  "endpoint": f"{receiver.base}/hooks/cb-fbweb-{run}", "tags": [f"cb-{run}"]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    event = accepted(receiver, run, 1)
    only_x = event.announcement.model_copy(
        update={"target": Target(regencies=("73.71",), kinds=("x",), tags=(f"cb-{run}",)),
                "fallback": Fallback(kinds=("web",))}
    )  # fmt: skip
    await announce(stack, event.model_copy(update={"announcement": only_x}))
    try:
        [callback] = await eventually(
            lambda: receiver.at(f"/callbacks/{run}-1"), within=60, what="the completion callback"
        )
    except AssertionError:
        raise AssertionError(stack.tail(60)) from None
    data = json.loads(callback.body)["data"]
    assert len(receiver.at(f"/hooks/cb-fbweb-{run}")) == 1
    assert (data["planned"], data["delivered"], data["failed"]) == (2, 1, 1)
    assert data["fallbacks"] == {"planned": 1, "delivered": 1}
