"""Bulk import over the API, scheduled and cancelled announcements through the handlers,
and channel health from the publisher's topic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from siaran_router.app import create_app
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    ChannelHealth,
    ChannelHealthChanged,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Target,
    utcnow,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNEL_HEALTH, DELIVERIES, RESULTS
from siaran_shared.messaging import ce_headers
from siaran_shared.testing import ServiceUnderTest, service_under_test


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path, observe=(DELIVERIES, RESULTS)) as sut:
        yield sut


def client(sut: ServiceUnderTest) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {sut.admin_key}"},
    )


def row(channel_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": channel_id, "region": "73.03", "kind": "web", "name": channel_id,
            "endpoint": f"https://example.go.id/{channel_id}"} | fields  # fmt: skip


async def import_rows(
    sut: ServiceUnderTest, rows: list[dict[str, Any]], **params: str
) -> httpx.Response:
    async with client(sut) as c:
        return await c.post("/v1/channels:import", json={"channels": rows}, params=params)


async def test_import_creates_then_is_idempotent(router: ServiceUnderTest) -> None:
    rows = [row("a"), row("b", kind="x", tags=["official"])]
    r = await import_rows(router, rows)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == ["a", "b"]
    again = (await import_rows(router, rows)).json()
    assert again["created"] == []
    assert again["updated"] == []
    assert again["unchanged"] == 2


async def test_dry_run_reports_changes_and_changes_nothing(router: ServiceUnderTest) -> None:
    await import_rows(router, [row("a")])
    r = await import_rows(router, [row("a", name="Renamed"), row("new")], dry_run="true")
    body = r.json()
    assert body["dry_run"] is True
    assert body["created"] == ["new"]
    assert body["updated"] == [{"id": "a", "fields": ["name"]}]
    async with client(router) as c:
        assert (await c.get("/v1/channels/new")).status_code == 404
        assert (await c.get("/v1/channels/a")).json()["name"] == "a"


async def test_one_bad_row_is_reported_and_nothing_is_imported(router: ServiceUnderTest) -> None:
    rows = [
        row("good"),
        row("bad", endpoint="https://api.example.org/hook?token=abc123", region="99.99"),
        row("good"),
    ]
    r = await import_rows(router, rows)
    assert r.status_code == 422
    error = r.json()["error"]
    assert "nothing was imported" in error["message"]
    by_field = {d["field"]: d for d in error["details"]}
    assert by_field["channels[1].region"]["row"] == 2
    assert by_field["channels[1].region"]["channel_id"] == "bad"
    assert "{secret:NAME}" in by_field["channels[1].endpoint"]["message"]
    assert "duplicate id" in by_field["channels[2].id"]["message"]
    async with client(router) as c:
        assert (await c.get("/v1/channels")).json()["total"] == 0


async def test_prune_removes_channels_missing_from_the_file(router: ServiceUnderTest) -> None:
    await import_rows(router, [row("keep"), row("drop")])
    r = await import_rows(router, [row("keep")], prune="true")
    assert r.json()["removed"] == ["drop"]
    async with client(router) as c:
        assert [c["id"] for c in (await c.get("/v1/channels")).json()["items"]] == ["keep"]


async def announce(
    sut: ServiceUnderTest, event: AnnouncementAccepted | AnnouncementCancelled
) -> None:
    key = (
        event.announcement.id if isinstance(event, AnnouncementAccepted) else event.announcement_id
    )
    await sut.publish(ANNOUNCEMENTS, event.model_dump_json().encode(), key=key,
                      headers=ce_headers(event, source="test"))  # fmt: skip
    await sut.app.state.releaser.release_due()


def accepted(announcement_id: str, **fields: Any) -> AnnouncementAccepted:
    a = Announcement(id=announcement_id, title="Judul", body="Isi",
                     target=Target(provinces=("73",)), **fields)  # fmt: skip
    return AnnouncementAccepted(announcement=a, submitted_by="test")


async def test_future_announcement_is_held_and_its_cancellation_reported(
    router: ServiceUnderTest,
) -> None:
    await import_rows(router, [row("a"), row("b")])
    await announce(router, accepted("later", publish_at=utcnow() + timedelta(hours=1)))
    assert router.events(DELIVERIES, DeliveryPlanned) == []
    assert await router.app.state.releaser.pending() == 2
    await announce(router, AnnouncementCancelled(announcement_id="later", cancelled_by="test"))
    assert router.events(DELIVERIES, DeliveryPlanned) == []
    outcomes = router.events(RESULTS, DeliveryCompleted)
    assert sorted((o.channel_id, o.status) for o in outcomes) == [
        ("a", DeliveryStatus.CANCELLED),
        ("b", DeliveryStatus.CANCELLED),
    ]
    assert await router.app.state.releaser.pending() == 0


async def test_expired_announcement_posts_nothing_and_says_expired(
    router: ServiceUnderTest,
) -> None:
    await import_rows(router, [row("a")])
    await announce(router, accepted("old", expires_at=utcnow() - timedelta(seconds=1)))
    assert router.events(DELIVERIES, DeliveryPlanned) == []
    [result] = router.events(RESULTS, DeliveryCompleted)
    assert result.status is DeliveryStatus.EXPIRED


async def test_local_time_sets_not_before_per_region(router: ServiceUnderTest) -> None:
    regions = {"makassar": "73.03", "jakarta": "31.71", "jayapura": "91.71", "nasional": "ID"}
    await import_rows(router, [row(name, region=code) for name, code in regions.items()])
    # accepted at 07:30 WIB, 08:30 WITA, 09:30 WIT: 09:00 comes next that day in WIB and
    # WITA, the day after in WIT; all in the past now, so the releaser releases them at once
    accepted_at = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    a = Announcement(id="morning", title="Judul", body="Isi", target=Target(national=True),
                     publish_local_time="09:00")  # fmt: skip
    await announce(router, AnnouncementAccepted(announcement=a, submitted_by="test",
                                                accepted_at=accepted_at))  # fmt: skip
    not_before = {t.channel_id: t.not_before for t in router.events(DELIVERIES, DeliveryPlanned)}
    assert not_before == {
        "jayapura": datetime(2026, 3, 1, 0, 0, tzinfo=UTC) + timedelta(days=1),  # 09:00 WIT
        "makassar": datetime(2026, 3, 1, 1, 0, tzinfo=UTC),  # 09:00 WITA
        "jakarta": datetime(2026, 3, 1, 2, 0, tzinfo=UTC),  # 09:00 WIB
        "nasional": datetime(2026, 3, 1, 2, 0, tzinfo=UTC),  # national channels: WIB
    }


async def test_channel_health_is_shown_on_the_channel(router: ServiceUnderTest) -> None:
    await import_rows(router, [row("a")])
    event = ChannelHealthChanged(channel_id="a", kind="web", province="73",
                                 state=ChannelHealth.OPEN, reason="HTTP 503 five times",
                                 consecutive_failures=5)  # fmt: skip
    older = event.model_copy(
        update={"state": ChannelHealth.HEALTHY, "changed_at": event.changed_at - timedelta(1)}
    )
    for e in (event, older):
        await router.publish(CHANNEL_HEALTH, e.model_dump_json().encode(), key="a",
                             headers=ce_headers(e, source="test"))  # fmt: skip
    async with client(router) as c:
        health = (await c.get("/v1/channels/a")).json()["health"]
    assert health == {
        "state": "open",
        "reason": "HTTP 503 five times",
        "consecutive_failures": 5,
        "changed_at": event.changed_at.isoformat(),
    }
