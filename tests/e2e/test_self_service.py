"""A provincial office keeps its own channels on the real stack: with a province key made by
`siaran keys create`, it adds a channel in one of its regencies, lists and exports only its
regions, is refused another province's region and the whole-registry import, its own
announcement reaches the channel it added, and removing the channel takes it out."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.harness import Receiver, RunningStack, eventually
from tests.e2e.test_ingest import cli_keys

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


def as_key(stack: RunningStack, service: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


async def test_a_province_office_manages_its_own_channels_and_is_reached_through_them(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    name = f"sulsel-office-{run}"
    sulsel = cli_keys(stack, "create", "--name", name, "--scope", "province:73").splitlines()[-1]
    path, channel_id = f"/hooks/self-{run}", f"bantaeng-self-{run}"
    row = {"region": "73.03", "kind": "web", "name": "Diskominfo Bantaeng",
           "endpoint": receiver.base + path, "tags": [run]}  # fmt: skip
    async with as_key(stack, "router", sulsel) as router:
        r = await router.put(f"/v1/channels/{channel_id}", json=row)
        assert r.status_code == 201, r.text
        r = await router.put(f"/v1/channels/jakarta-self-{run}", json=row | {"region": "31.71"})
        assert r.status_code == 403, r.text
        assert "31.71" in r.json()["error"]["message"]
        r = await router.get("/v1/channels", params={"limit": 10_000})
        assert r.status_code == 200, r.text
        listed = r.json()["items"]
        assert channel_id in {c["id"] for c in listed}
        assert {c["region"].split(".")[0] for c in listed} == {"73"}  # its province only
        assert (await router.get("/v1/channels", params={"region": "31"})).status_code == 403
        imported = await router.post("/v1/channels:import", json={"channels": []})
        assert imported.status_code == 403, imported.text  # the whole registry: admin only

    announcement_id = f"self-{run}"
    async with as_key(stack, "ingest", sulsel) as ingest:
        r = await ingest.post("/v1/announcements", json={
            "id": announcement_id, "title": "Jadwal posyandu", "body": "Posyandu dibuka Senin.",
            "target": {"regencies": ["73.03"], "tags": [run]}})  # fmt: skip
        assert r.status_code == 202, r.text
    await eventually(lambda: receiver.at(path), within=30, what="the office's own channel")
    [hit] = receiver.at(path)
    assert hit.json["data"]["announcement_id"] == announcement_id
    assert hit.json["data"]["channel_id"] == channel_id

    async with as_key(stack, "router", sulsel) as router:
        assert (await router.delete(f"/v1/channels/{channel_id}")).status_code == 204
        assert (await router.get(f"/v1/channels/{channel_id}")).status_code == 404
