"""Secrets stay secret: after real deliveries through a signed webhook and an Apprise URL
with a secret placeholder, no log line, no event on any topic and no API response holds a
configured secret value. Runs last in the e2e session, over everything the session did."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer
from siaran_shared.events.topics import TOPICS

from tests.e2e.conftest import SECRETS
from tests.e2e.harness import Receiver, RunningStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def _all_topic_bytes(bootstrap: str) -> bytes:
    """Every record (key, headers, value) on every Siaran topic, from the start."""
    consumer = AIOKafkaConsumer(
        *(t.name for t in TOPICS),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    chunks: list[bytes] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1500)
            if not batch:
                break
            for records in batch.values():
                for r in records:
                    chunks.append(r.key or b"")
                    chunks.append(r.value or b"")
                    chunks.extend(k.encode() + v for k, v in r.headers)
    finally:
        await consumer.stop()
    return b"\n".join(chunks)


async def test_no_secret_in_logs_events_or_responses(
    stack: RunningStack, receiver: Receiver, proof: Callable[..., None]
) -> None:
    run = uuid.uuid4().hex[:8]
    signed, apprise_path = f"/scan/signed-{run}", f"/scan/apprise-{run}"
    responses: list[str] = []
    async with stack.client("router") as router:
        for channel_id, body in {
            f"scan-signed-{run}": {"region": "73.03", "kind": "web", "name": "Signed",
                                   "endpoint": receiver.base + signed,
                                   "secret": "E2E_HOOK_SECRET"},
            f"scan-apprise-{run}": {"region": "73.03", "kind": "telegram", "name": "Apprise",
                                    "endpoint": f"json://127.0.0.1:{receiver.port}"
                                                f"{apprise_path}/{{secret:E2E_PATH_TOKEN}}"},
        }.items():  # fmt: skip
            r = await router.put(f"/v1/channels/{channel_id}", json=body)
            assert r.status_code in (200, 201), r.text
            responses.append(r.text)
        responses.append((await router.get("/v1/channels")).text)
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={"id": f"scan-{run}", "title": "Rahasia tetap rahasia", "body": "Isi",
                  "target": {"regencies": ["73.03"]}},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        responses.append(r.text)
        responses.append((await ingest.get(f"/v1/announcements/scan-{run}")).text)

    # the secrets did their job: a verifiable signature and the token in the Apprise path
    await eventually(lambda: receiver.at(signed), what="signed delivery")
    token_path = f"{apprise_path}/{SECRETS['E2E_PATH_TOKEN']}"
    await eventually(lambda: receiver.at(token_path), what="Apprise delivery with its token")
    assert "X-Siaran-Signature" in receiver.at(signed)[0].headers

    async with stack.client("metrics") as metrics:
        for path in (
            f"/v1/announcements/scan-{run}/report",
            f"/v1/announcements/scan-{run}/deliveries",
            "/v1/coverage",
            "/v1/announcements",
        ):
            responses.append((await metrics.get(path)).text)
    for service in ("ingest", "router", "publisher", "metrics"):
        async with stack.client(service) as c:
            responses.append((await c.get("/metrics")).text)
            responses.append((await c.get("/openapi.json")).text)

    haystacks = {
        "logs": stack.log.read_bytes(),
        "events": await _all_topic_bytes(stack.stack.config.bootstrap),
        "responses": "\n".join(responses).encode(),
    }
    # the haystacks are real: this run's announcement is in the events and the responses
    assert f"scan-{run}".encode() in haystacks["events"]
    assert f"scan-{run}".encode() in haystacks["responses"]
    assert b"service_started" in haystacks["logs"]
    found = {
        where: sum(blob.count(value.encode()) for value in SECRETS.values())
        for where, blob in haystacks.items()
    }
    proof(
        "security: secret scan",
        log_bytes=len(haystacks["logs"]),
        event_bytes=len(haystacks["events"]),
        occurrences=sum(found.values()),
    )
    assert found == {"logs": 0, "events": 0, "responses": 0}
