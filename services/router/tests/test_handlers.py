"""Router handlers on FastStream's in-memory broker: registry API and fan-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from siaran_router.app import create_app
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    DeliveryAction,
    DeliveryPlanned,
    Event,
    Target,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, DELIVERIES
from siaran_shared.messaging import ce_headers
from siaran_shared.testing import ServiceUnderTest, service_under_test


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path, observe=(DELIVERIES,)) as sut:
        yield sut


def client(sut: ServiceUnderTest) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {sut.admin_key}"},
    )


async def put_channel(sut: ServiceUnderTest, channel_id: str, **fields: object) -> None:
    body = {"region": "73.03", "kind": "web", "name": channel_id,
            "endpoint": f"https://example.go.id/{channel_id}"} | fields  # fmt: skip
    async with client(sut) as c:
        r = await c.put(f"/v1/channels/{channel_id}", json=body)
    assert r.status_code in (200, 201), r.text


async def publish(sut: ServiceUnderTest, topic: str, key: str, event: Event) -> None:
    """`event` on `topic` as a service would produce it, then what is due released."""
    await sut.publish(
        topic, event.model_dump_json().encode(), key=key, headers=ce_headers(event, source="test")
    )
    await sut.app.state.releaser.release_due()  # the background loop does this in service


async def announce(
    sut: ServiceUnderTest, event: AnnouncementAccepted | AnnouncementCancelled
) -> None:
    key = (
        event.announcement.id if isinstance(event, AnnouncementAccepted) else event.announcement_id
    )
    await publish(sut, ANNOUNCEMENTS, key, event)  # the background loop does this in service


def accepted(announcement_id: str, target: Target) -> AnnouncementAccepted:
    return AnnouncementAccepted(
        announcement=Announcement(id=announcement_id, title="Judul", body="Isi", target=target),
        submitted_by="test",
    )


async def test_fan_out_plans_one_rendered_task_per_matching_channel(
    router: ServiceUnderTest,
) -> None:
    await put_channel(router, "bantaeng-web")
    await put_channel(router, "bantaeng-x", kind="x")
    await put_channel(router, "jakarta-web", region="31.71")
    await put_channel(router, "off", enabled=False)

    await announce(router, accepted("a1", Target(provinces=("73",))))

    tasks = router.events(DELIVERIES, DeliveryPlanned)
    assert sorted(t.channel_id for t in tasks) == ["bantaeng-web", "bantaeng-x"]
    assert all(t.delivery_id == f"a1:{t.channel_id}" for t in tasks)
    assert all(t.province == "73" for t in tasks)
    keys = sorted(r.key for r in router.seen[DELIVERIES])
    assert keys == [b"bantaeng-web", b"bantaeng-x"]


async def test_replayed_announcement_is_not_fanned_out_twice(router: ServiceUnderTest) -> None:
    await put_channel(router, "bantaeng-web")
    event = accepted("a2", Target(regencies=("73.03",)))
    await announce(router, event)
    await announce(router, event)
    assert len(router.events(DELIVERIES, DeliveryPlanned)) == 1


async def test_cancellation_emits_retraction_tasks(router: ServiceUnderTest) -> None:
    await put_channel(router, "bantaeng-web")
    await announce(router, accepted("a3", Target(provinces=("73",))))
    await announce(router, AnnouncementCancelled(announcement_id="a3", cancelled_by="test"))
    actions = [t.action for t in router.events(DELIVERIES, DeliveryPlanned)]
    assert actions == [DeliveryAction.PUBLISH, DeliveryAction.RETRACT]


async def test_poison_record_is_dead_lettered_and_flow_continues(
    tmp_path: Path,
) -> None:
    from siaran_shared.events.topics import DLQ

    async with service_under_test(create_app, tmp_path, observe=(DELIVERIES, DLQ)) as sut:
        await put_channel(sut, "bantaeng-web")
        await sut.publish(ANNOUNCEMENTS, b"{not json", key="x")
        await announce(sut, accepted("a4", Target(provinces=("73",))))
        assert len(sut.events(DELIVERIES, DeliveryPlanned)) == 1
        dead = sut.seen[DLQ]
        assert len(dead) == 1
        assert dead[0].value == b"{not json"
        headers = {k: v.decode() for k, v in dead[0].headers}
        assert headers["siaran-origin-topic"] == ANNOUNCEMENTS
        assert "invalid" in headers["siaran-error"] or "unexpected" in headers["siaran-error"]


async def test_channel_with_raw_secret_in_endpoint_is_refused(router: ServiceUnderTest) -> None:
    async with client(router) as c:
        r = await c.put(
            "/v1/channels/leaky",
            json={"region": "73", "kind": "telegram", "name": "Leaky",
                  "endpoint": "https://api.example.org/hook?token=abc123"},
        )  # fmt: skip
    assert r.status_code == 422
    detail = r.json()["error"]["details"][0]
    assert detail["field"] == "endpoint"
    assert "{secret:NAME}" in detail["message"]


async def test_completions_on_the_announcements_topic_are_ignored_not_dead_lettered(
    tmp_path: Path,
) -> None:
    from siaran_shared.events import AnnouncementCompleted
    from siaran_shared.events.topics import DLQ

    async with service_under_test(create_app, tmp_path, observe=(DELIVERIES, DLQ)) as sut:
        await put_channel(sut, "bantaeng-web")
        done = AnnouncementCompleted(announcement_id="a0", report={"delivered": 1})
        await publish(sut, ANNOUNCEMENTS, "a0", done)
        await announce(sut, accepted("a5", Target(provinces=("73",))))
        assert [t.announcement_id for t in sut.events(DELIVERIES, DeliveryPlanned)] == ["a5"]
        assert sut.seen[DLQ] == []


async def test_a_correction_reaches_the_same_channels_as_revision_two(
    router: ServiceUnderTest,
) -> None:
    from siaran_shared.events import AnnouncementUpdated

    await put_channel(router, "bantaeng-web")
    first = accepted("a6", Target(provinces=("73",)))
    await announce(router, first)
    await put_channel(router, "bantaeng-late")  # not planned for revision 1
    fix = AnnouncementUpdated(
        announcement=first.announcement.model_copy(update={"body": "Isi yang benar"}),
        revision=2, accepted_at=first.accepted_at, updated_by="editor", submitted_by="test",
    )  # fmt: skip
    await publish(router, ANNOUNCEMENTS, "a6", fix)
    tasks = router.events(DELIVERIES, DeliveryPlanned)
    assert [(t.delivery_id, t.revision) for t in tasks] == [("a6:bantaeng-web", 1),
                                                             ("a6:bantaeng-web", 2)]  # fmt: skip
    assert "Isi yang benar" in tasks[1].text


async def test_a_permanent_failure_on_the_results_topic_plans_the_fallback(
    tmp_path: Path,
) -> None:
    from siaran_shared.events import DeliveryCompleted, DeliveryStatus, Fallback
    from siaran_shared.events.topics import DLQ, RESULTS

    async with service_under_test(create_app, tmp_path, observe=(DELIVERIES, DLQ)) as sut:
        await put_channel(sut, "bantaeng-web")
        await put_channel(sut, "bantaeng-sms", kind="sms")
        first = accepted("a7", Target(provinces=("73",), kinds=("web",)))
        first = first.model_copy(update={"announcement": first.announcement.model_copy(
            update={"fallback": Fallback(kinds=("sms",))})})  # fmt: skip
        await announce(sut, first)
        [task] = sut.events(DELIVERIES, DeliveryPlanned)
        failure = DeliveryCompleted.of(task, DeliveryStatus.FAILED, attempts=1, response="400")
        await sut.publish(RESULTS, b"{not json", key="a7")  # metrics dead-letters it
        await publish(sut, RESULTS, "a7", failure)
        tasks = sut.events(DELIVERIES, DeliveryPlanned)
        assert [(t.channel_id, t.fallback_of) for t in tasks[1:]] == [
            ("bantaeng-sms", "a7:bantaeng-web")
        ]
        assert sut.seen[DLQ] == []
