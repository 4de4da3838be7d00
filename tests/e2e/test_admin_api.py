"""The admin APIs on the real stack: a poison inbound message shows up in metrics' dead
letters with its reason and goes back to its topic when replayed; a key made over HTTP works
on every service at once and, revoked, is refused by every service at once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from siaran_shared.events.topics import INBOUND

from tests.e2e.harness import RunningStack, eventually, read_to_end

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def dead_letter_keyed(stack: RunningStack, key: str, count: int = 1) -> list[Any]:
    """The dead letters from the inbound topic with this key, once there are `count`."""

    async def found() -> list[Any] | None:
        async with stack.client("metrics") as c:
            r = await c.get("/v1/dead-letters", params={"origin": INBOUND, "limit": 500})
        assert r.status_code == 200, r.text
        mine = [item for item in r.json()["items"] if item["key"] == key]
        return mine if len(mine) >= count else None

    result: list[Any] = await eventually(found, within=30, what=f"{count} dead letter(s) {key}")
    return result


async def test_a_poison_inbound_message_is_listed_with_its_reason_and_replayed(
    stack: RunningStack,
) -> None:
    run = uuid.uuid4().hex[:8]
    key = f"poison-{run}"
    value = json.dumps({"id": f"p-{run}", "title": "T", "body": "B",
                        "target": {"provinces": ["99"]}}).encode()  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(INBOUND, value, key=key.encode(),
                                     headers=[("authorization", stack.key.encode()),
                                              ("x-sender", b"sistem-uji")])  # fmt: skip
    finally:
        await producer.stop()
    [letter] = await dead_letter_keyed(stack, key)
    assert "target.provinces" in letter["error"]
    assert letter["dead_lettered_by"] == "siaran/ingest"
    async with stack.client("metrics") as c:
        detail = (await c.get(f"/v1/dead-letters/{letter['id']}")).json()
        assert stack.key not in json.dumps(detail)  # the API key in the header: never kept
        assert "authorization" not in detail["headers"]
        assert '"provinces": ["99"]' in detail["preview"]
        replayed = await c.post(f"/v1/dead-letters/{letter['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["replay_count"] == 1
        again = await c.post(f"/v1/dead-letters/{letter['id']}/replay")
        assert again.status_code == 409

    records = await read_to_end(stack.stack.config.bootstrap, INBOUND)
    mine = [r for r in records if r.key == key.encode()]
    assert len(mine) == 2  # the original and its replay
    back = {k: v for k, v in mine[1].headers}
    assert mine[1].value == value
    assert back["x-sender"] == b"sistem-uji"
    assert "siaran-replayed-at" in back
    assert "authorization" not in back
    # ingest refuses the replay as unauthorised: the key was never kept, the sender must resend
    [refused] = [d for d in await dead_letter_keyed(stack, key, 2) if d["id"] != letter["id"]]
    assert refused["error"].startswith("unauthorized")


async def test_a_key_made_over_http_works_everywhere_and_revoked_is_refused_everywhere(
    stack: RunningStack,
) -> None:
    run = uuid.uuid4().hex[:8]
    async with stack.client("ingest") as admin:
        r = await admin.post("/v1/keys", json={"name": f"e2e-{run}", "scope": "national"})
        assert r.status_code == 201, r.text
        created = r.json()
    token = created["key"]
    announcement = {"id": f"k-{run}", "title": "T", "body": "B", "target": {"provinces": ["73"]}}
    reads = {
        "ingest": ("POST", "/v1/announcements", announcement),
        "router": ("POST", "/v1/previews", announcement),
        "metrics": ("GET", "/v1/coverage", None),
    }

    async def statuses() -> dict[str, int]:
        found = {}
        auth = {"Authorization": f"Bearer {token}"}
        for service, (method, path, body) in reads.items():
            async with httpx.AsyncClient(base_url=stack.url(service), headers=auth) as c:
                found[service] = (await c.request(method, path, json=body)).status_code
        return found

    assert await statuses() == {"ingest": 202, "router": 200, "metrics": 200}
    async with stack.client("ingest") as admin:
        assert (await admin.delete(f"/v1/keys/{created['id']}")).status_code == 200
    assert await statuses() == {"ingest": 401, "router": 401, "metrics": 401}
