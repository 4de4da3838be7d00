"""Self-service registry: province and regency keys manage the channels of their own regions
(PUT, DELETE, list, export), never another region's; admin keeps the whole registry and import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from siaran_router.app import create_app
from siaran_shared.auth import KeyRing
from siaran_shared.testing import ServiceUnderTest, service_under_test


def channel(region: str) -> dict[str, Any]:
    return {"region": region, "kind": "web", "name": f"office {region}",
            "endpoint": f"https://example.go.id/{region}"}  # fmt: skip


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path) as sut:
        yield sut


def client(sut: ServiceUnderTest, scope: str | None = None) -> httpx.AsyncClient:
    token = sut.admin_key
    if scope is not None:
        ring = KeyRing(sut.runtime.settings.resolved_api_keys_file)
        _, token = ring.create(scope.replace(":", "-").replace(".", "-"), scope)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {token}"},
    )


async def seed(sut: ServiceUnderTest) -> None:
    async with client(sut) as admin:
        for cid, region in (("sulsel", "73"), ("bantaeng", "73.03"), ("gowa", "73.06"),
                            ("jakpus", "31.71"), ("pusat", "ID")):  # fmt: skip
            assert (await admin.put(f"/v1/channels/{cid}", json=channel(region))).is_success


async def test_province_key_manages_its_province_and_regencies_only(
    router: ServiceUnderTest,
) -> None:
    await seed(router)
    async with client(router, "province:73") as c:
        listed = await c.get("/v1/channels")
        created = await c.put("/v1/channels/takalar", json=channel("73.05"))
        replaced = await c.put("/v1/channels/gowa", json=channel("73.06") | {"name": "Gowa"})
        elsewhere = await c.put("/v1/channels/bandung", json=channel("32.73"))
        national = await c.put("/v1/channels/pusat2", json=channel("ID"))
        hijack = await c.put("/v1/channels/jakpus", json=channel("73.03"))
        moved_out = await c.put("/v1/channels/gowa", json=channel("31.71"))
        read_other = await c.get("/v1/channels/jakpus")
        delete_other = await c.delete("/v1/channels/jakpus")
        filter_other = await c.get("/v1/channels", params={"region": "31.71"})
        deleted = await c.delete("/v1/channels/bantaeng")
        import_ = await c.post("/v1/channels:import", json={"channels": []})
    assert listed.status_code == 200
    assert {i["id"] for i in listed.json()["items"]} == {"sulsel", "bantaeng", "gowa"}
    assert listed.json()["total"] == 3
    assert (created.status_code, replaced.status_code, deleted.status_code) == (201, 200, 204)
    for refused, region in ((elsewhere, "32.73"), (national, "ID"), (hijack, "31.71"),
                            (moved_out, "31.71"), (read_other, "31.71"),
                            (delete_other, "31.71"), (filter_other, "31.71")):  # fmt: skip
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden"
        assert f"region {region!r}" in refused.json()["error"]["message"]
    assert import_.status_code == 403  # import stays with admin
    async with client(router) as admin:
        after = {i["id"]: i["region"] for i in (await admin.get("/v1/channels")).json()["items"]}
    assert after == {"sulsel": "73", "gowa": "73.06", "takalar": "73.05",
                     "jakpus": "31.71", "pusat": "ID"}  # fmt: skip


async def test_regency_key_manages_only_its_own_regency(router: ServiceUnderTest) -> None:
    await seed(router)
    async with client(router, "regency:73.03") as c:
        listed = await c.get("/v1/channels")
        own = await c.put("/v1/channels/bantaeng", json=channel("73.03") | {"name": "B"})
        province = await c.put("/v1/channels/sulsel", json=channel("73.03"))
        neighbour = await c.delete("/v1/channels/gowa")
    assert [i["id"] for i in listed.json()["items"]] == ["bantaeng"]
    assert own.status_code == 200
    assert (province.status_code, neighbour.status_code) == (403, 403)
    assert "region '73'" in province.json()["error"]["message"]
    assert "region '73.06'" in neighbour.json()["error"]["message"]


async def test_national_key_is_not_a_registry_key(router: ServiceUnderTest) -> None:
    async with client(router, "national") as c:
        r = await c.get("/v1/channels")
    assert r.status_code == 403
    assert "admin, province or regency key" in r.json()["error"]["message"]


async def test_a_regional_key_names_only_its_own_regions_secrets(
    router: ServiceUnderTest,
) -> None:
    """Secrets are one pool: a regional key pointing a channel at its own server with another
    region's token (or the publisher's own key) would have the publisher send it there."""
    stolen = channel("73.03") | {"endpoint": "https://attacker.example/h?k={secret:R3171_FB_TOKEN}"}
    own_kind = channel("73.03") | {
        "kind": "facebook", "endpoint": "facebook://1048576?token={secret:R7303_FB_TOKEN}",
    }  # fmt: skip
    province_names_regency = channel("73.06") | {"secret": "R7306_HOOK"}
    async with client(router, "regency:73.03") as c:
        refused = await c.put("/v1/channels/steal", json=stolen)
        token_key = await c.put(
            "/v1/channels/steal2", json=channel("73.03") | {"secret": "TOKEN_KEY"}
        )
        neighbour = await c.put(
            "/v1/channels/steal3", json=channel("73.03") | {"secret": "R7306_X"}
        )
        allowed = await c.put("/v1/channels/bantaeng-fb", json=own_kind)
    async with client(router, "province:73") as c:
        province = await c.put("/v1/channels/gowa-hook", json=province_names_regency)
        other_province = await c.put(
            "/v1/channels/gowa-x", json=channel("73.06") | {"secret": "R31_HOOK"}
        )
    async with client(router) as admin:
        admin_any = await admin.put("/v1/channels/pusat-x", json=channel("ID") | {"secret": "ANY"})
    assert refused.status_code == 403, refused.text
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "endpoint"
    assert "'R3171_FB_TOKEN'" in detail["message"]
    assert "must start with R7303_" in detail["message"]
    assert (token_key.status_code, neighbour.status_code) == (403, 403)
    assert token_key.json()["error"]["details"][0]["field"] == "secret"
    assert allowed.status_code == 201, allowed.text
    assert province.status_code == 201, province.text
    assert other_province.status_code == 403
    assert admin_any.status_code == 201, admin_any.text
