"""ingest against the real stack (bundled broker, services as processes), tried as a new user
would: each bad request gets the status and message the contract names, and a valid
announcement sent twice, or twenty times at once, reaches its channel once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from siaran_cli.main import app as cli
from siaran_shared.events import AnnouncementAccepted
from siaran_shared.events.topics import ANNOUNCEMENTS, DELIVERIES, DLQ, INBOUND
from typer.testing import CliRunner

from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def channel(stack: RunningStack, receiver: Receiver, run: str, region: str) -> str:
    path = f"/hooks/ingest-{run}"
    async with stack.client("router") as router:
        r = await router.put(
            f"/v1/channels/ingest-{run}",
            json={"region": region, "kind": "web", "name": f"Ingest {run}",
                  "endpoint": receiver.base + path},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    return path


def body(announcement_id: str, region: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": announcement_id,
        "title": "Posyandu serentak",
        "body": "Posyandu serentak dibuka di seluruh kecamatan.",
        "target": {"regencies": [region]},
    } | fields


def cli_keys(stack: RunningStack, *args: str) -> str:
    keys_file = str(stack.stack.config.home / "api-keys.json")
    result = CliRunner().invoke(cli, ["keys", *args, "--keys-file", keys_file])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


async def test_twenty_simultaneous_posts_reach_the_channel_once(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await channel(stack, receiver, run, "73.03")
    async with stack.client("ingest") as ingest:
        responses = await asyncio.gather(
            *(ingest.post("/v1/announcements", json=body(f"burst-{run}", "73.03"))
              for _ in range(20))
        )  # fmt: skip
        assert [r.status_code for r in responses] == [202] * 20, [r.text for r in responses]
        again = await ingest.post("/v1/announcements", json=body(f"burst-{run}", "73.03"))
        assert again.status_code == 202
    await eventually(lambda: receiver.at(path), within=30, what="delivery")
    # a later announcement to the same channel (its tasks share the channel's partition)
    # marks a point after which a second fan-out would already be on the topics
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=body(f"after-{run}", "73.03"))
        assert r.status_code == 202, r.text
    await eventually(lambda: len(receiver.at(path)) >= 2, within=30, what="the later delivery")
    bootstrap = stack.stack.config.bootstrap
    accepted = await read_to_end(bootstrap, ANNOUNCEMENTS)
    planned = await read_to_end(bootstrap, DELIVERIES)
    accepted_type = AnnouncementAccepted.event_type.encode()  # metrics adds completed events
    burst = [r for r in accepted if r.key == f"burst-{run}".encode()]
    assert [dict(r.headers).get("ce_type") for r in burst].count(accepted_type) == 1, "once"
    assert [r.key for r in planned].count(f"ingest-{run}".encode()) == 2, "one task each"
    delivered = [r.json["data"]["announcement_id"] for r in receiver.at(path)]
    assert sorted(delivered) == [f"after-{run}", f"burst-{run}"]


async def test_bad_requests_get_the_contract_status_and_message(stack: RunningStack) -> None:
    url = stack.url("ingest") + "/v1/announcements"
    ok = body("never", "73.03")
    async with httpx.AsyncClient(timeout=10) as anon:
        r = await anon.post(url, json=ok)
        assert r.status_code == 401
        assert r.json()["error"]["message"].startswith("missing API key")
        r = await anon.post(url, json=ok, headers={"Authorization": "Token abc"})
        assert r.status_code == 401
        assert "malformed" in r.json()["error"]["message"]
    name = f"sulsel-{uuid.uuid4().hex[:6]}"
    token = cli_keys(stack, "create", "--name", name, "--scope", "province:73").splitlines()[-1]
    async with httpx.AsyncClient(
        timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as sulsel:
        r = await sulsel.post(url, json=body("x", "31.71"))
        assert r.status_code == 403
        assert "31.71" in r.json()["error"]["message"]
        r = await sulsel.post(url, json={"title": "", "target": {"provinces": ["99"]}})
        assert r.status_code == 422
        fields = {d["field"] for d in r.json()["error"]["details"]}
        assert {"title", "body", "target.provinces"} <= fields
        r = await sulsel.post(url, content=b"{" + b" " * 300_000 + b"}",
                              headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"

        async def chunked() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b" " * 8192

        r = await sulsel.post(url, content=chunked(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"

        r = await sulsel.post(url, json=body(f"ok-{uuid.uuid4().hex[:6]}", "73.03"))
        assert r.status_code == 202
        listed = cli_keys(stack, "list")
        assert token not in listed
        assert name in listed
        cli_keys(stack, "revoke", name)
        r = await sulsel.post(url, json=body(f"ok-{uuid.uuid4().hex[:6]}", "73.03"))
        assert r.status_code == 401, "revocation applies at once"
        assert "revoked" in r.json()["error"]["message"]


async def test_cap_alert_reaches_the_channel(stack: RunningStack, receiver: Receiver) -> None:
    run = uuid.uuid4().hex[:8]
    path = await channel(stack, receiver, run, "73.04")
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>BMKG-{run}</identifier><sender>bmkg@bmkg.go.id</sender>
  <sent>2026-01-15T16:30:12+07:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>id-ID</language><category>Met</category><event>Hujan lebat</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <expires>2099-01-15T20:30:00+07:00</expires>
    <headline>Peringatan dini hujan lebat</headline><description>Waspada.</description>
    <area><areaDesc>Jeneponto</areaDesc>
      <geocode><valueName>KEMENDAGRI</valueName><value>73.04</value></geocode></area>
  </info>
</alert>"""
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            content=document.encode(),
            headers={"Content-Type": "application/cap+xml"},
        )
        assert r.status_code == 202, r.text
    await eventually(lambda: receiver.at(path), within=30, what="CAP delivery")
    data = receiver.at(path)[0].json["data"]
    assert data["announcement_id"] == f"BMKG-{run}"
    assert data["priority"] == "urgent"


async def test_inbound_topic_accepts_valid_and_dead_letters_the_rest(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await channel(stack, receiver, run, "73.05")
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap)
    await producer.start()
    bad_key = f"bad-{run}".encode()
    bad_value = json.dumps(body(f"in-bad-{run}", "73.05")).encode()
    try:
        await producer.send_and_wait(INBOUND, bad_value, key=bad_key,
                                     headers=[("authorization", b"Bearer siaran_x_y")])  # fmt: skip
        good = json.dumps(body(f"in-{run}", "73.05")).encode()
        await producer.send_and_wait(INBOUND, good, key=b"good",
                                     headers=[("authorization", stack.key.encode())])  # fmt: skip
    finally:
        await producer.stop()
    await eventually(lambda: receiver.at(path), within=30, what="inbound delivery")
    assert receiver.at(path)[0].json["data"]["announcement_id"] == f"in-{run}"

    consumer = AIOKafkaConsumer(
        DLQ, bootstrap_servers=stack.stack.config.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:

        async def dead_letter() -> Any:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    if record.key == bad_key:
                        return record
            return None

        record = await eventually(dead_letter, within=30, what="dead letter")
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in record.headers}
    assert record.value == bad_value
    assert headers["siaran-error"].startswith("unauthorized: invalid or revoked API key")
    assert headers["siaran-origin-topic"] == INBOUND
