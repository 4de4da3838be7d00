"""GET /v1/announcements/{id}/deliveries on the in-memory broker: filters, the cursor,
each delivery's reason and attempts, the key's scope, and a 422 naming each bad parameter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from siaran_metrics.app import create_app
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    DeliveryStatus,
    Event,
    Target,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, PLANS, RESULTS
from siaran_shared.messaging import ce_headers
from siaran_shared.testing import ServiceUnderTest, service_under_test


@pytest.fixture
async def metrics(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path) as sut:
        yield sut


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


def client(sut: ServiceUnderTest, token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://metrics",
        headers={"Authorization": f"Bearer {token or sut.admin_key}"},
    )


async def three_deliveries(sut: ServiceUnderTest, make: SimpleNamespace, a: str = "d1") -> None:
    """bantaeng-web delivered, bantaeng-x failed after 3 attempts, makassar-web pending."""
    await send(sut, ANNOUNCEMENTS, make.accepted(a), a)
    for channel_id in ("bantaeng-web", "bantaeng-x", "makassar-web"):
        await send(sut, PLANS, make.plan(make.planned(channel_id, a)), a)
    await send(sut, RESULTS, make.outcome("bantaeng-web", announcement_id=a), a)
    failed = make.outcome("bantaeng-x", DeliveryStatus.FAILED, announcement_id=a)
    failed = failed.model_copy(update={"attempts": 3, "response": "HTTP 400 no such page"})
    await send(sut, RESULTS, failed, a)


async def listed(c: httpx.AsyncClient, a: str = "d1", **params: Any) -> list[dict[str, Any]]:
    r = await c.get(f"/v1/announcements/{a}/deliveries", params=params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_failed_delivery_shows_its_channel_reason_and_attempts(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await three_deliveries(metrics, make)
    async with client(metrics) as c:
        [failed] = await listed(c, status="failed")
        everything = await listed(c)
        web = await listed(c, kind="web", province="73")
    assert failed == {
        "delivery_id": "d1:bantaeng-x", "channel_id": "bantaeng-x", "region": "73.03",
        "kind": "x", "status": "failed", "reason": "HTTP 400 no such page", "attempts": 3,
        "delivered_at": None, "province": "73", "revision": 1, "post_id": None,
        "fallback_of": None,
    }  # fmt: skip
    statuses = {i["channel_id"]: i["status"] for i in everything}
    assert statuses == {"bantaeng-web": "delivered", "bantaeng-x": "failed",
                        "makassar-web": "pending"}  # fmt: skip
    [delivered] = [i for i in everything if i["status"] == "delivered"]
    assert delivered["delivered_at"] == (make.ACCEPTED_AT + timedelta(seconds=2)).isoformat()
    assert [i["channel_id"] for i in web] == ["bantaeng-web", "makassar-web"]


async def test_the_cursor_walks_every_delivery_once_in_order(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await three_deliveries(metrics, make)
    seen: list[str] = []
    cursor: str | None = None
    async with client(metrics) as c:
        for _ in range(5):
            params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            r = await c.get("/v1/announcements/d1/deliveries", params=params)
            assert r.status_code == 200, r.text
            seen += [i["delivery_id"] for i in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
    assert seen == ["d1:bantaeng-web", "d1:bantaeng-x", "d1:makassar-web"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "lost"),
        ("province", "99"),
        ("province", "73.03"),
        ("kind", "Web Site"),
        ("limit", "0"),
        ("limit", "501"),
        ("cursor", "not a cursor!"),
        ("cursor", "ZDE6YmFudGFlbmctd2Vi=="),  # padded: not as the API gives it
    ],
)
async def test_a_bad_parameter_is_a_422_naming_it(
    metrics: ServiceUnderTest, make: SimpleNamespace, param: str, value: str
) -> None:
    await three_deliveries(metrics, make)
    async with client(metrics) as c:
        r = await c.get("/v1/announcements/d1/deliveries", params={param: value})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == [f"query.{param}"]


async def test_unknown_announcement_is_a_404(metrics: ServiceUnderTest) -> None:
    async with client(metrics) as c:
        r = await c.get("/v1/announcements/nope/deliveries")
    assert r.status_code == 404
    assert "nope" in r.json()["error"]["message"]


async def test_a_key_sees_the_deliveries_of_its_own_regions_only(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    national = AnnouncementAccepted(
        announcement=Announcement(id="n1", title="T", body="B", target=Target(national=True)),
        accepted_at=make.ACCEPTED_AT,
        submitted_by="test",
    )
    await send(metrics, ANNOUNCEMENTS, national, "n1")
    for channel_id in ("bantaeng-web", "bantaeng-x", "makassar-web"):
        await send(metrics, PLANS, make.plan(make.planned(channel_id, "n1")), "n1")
    elsewhere_in = {"channel_id": "aceh-web", "region": "11.01", "province": "11"}
    aceh = make.planned("bantaeng-web", "n1").model_copy(
        update={"delivery_id": "n1:aceh-web"} | elsewhere_in
    )
    await send(metrics, PLANS, make.plan(aceh), aceh.announcement_id)
    ring = metrics.runtime.keyring
    _, regency = ring.create("bantaeng", "regency:73.03")
    _, province = ring.create("sulsel", "province:73")
    _, elsewhere = ring.create("papua", "province:91")
    async with client(metrics, regency) as c:
        assert [i["channel_id"] for i in await listed(c, "n1")] == ["bantaeng-web", "bantaeng-x"]
        assert await listed(c, "n1", province="73") != []
        r = await c.get("/v1/announcements/n1/deliveries", params={"province": "11"})
        assert r.status_code == 403, r.text
    async with client(metrics, province) as c:
        assert len(await listed(c, "n1")) == 3
    async with client(metrics, elsewhere) as c:
        assert await listed(c, "n1") == []  # targeted, but none of its channels there
    await three_deliveries(metrics, make, "p1")  # targets province 73 only
    async with client(metrics, elsewhere) as c:
        r = await c.get("/v1/announcements/p1/deliveries")
    assert r.status_code == 403, r.text
    assert "papua" in r.json()["error"]["message"]
