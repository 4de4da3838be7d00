"""`completed`: ingest consumes AnnouncementCompleted from the announcements topic and marks
the announcement completed when the revision is its latest; other events on the topic are
skipped, an undecodable completion is dead-lettered with the reason."""

from __future__ import annotations

import pytest
from siaran_shared.events import AnnouncementCompleted, CompletionStatus
from siaran_shared.events.topics import ANNOUNCEMENTS
from siaran_shared.messaging import ce_headers

from services.ingest.tests.conftest import Kit, announcement, post, status_of


async def completed(
    kit: Kit, announcement_id: str, revision: int = 1, status: str = "completed"
) -> None:
    event = AnnouncementCompleted(
        announcement_id=announcement_id,
        revision=revision,
        status=CompletionStatus(status),
        report={"delivered": 3, "failed": 0},
    )
    headers = ce_headers(event, source="siaran/metrics")
    await kit.sut.publish(
        ANNOUNCEMENTS, event.model_dump_json().encode(), key=announcement_id, headers=headers
    )


async def test_completion_of_the_latest_revision_marks_it_completed(kit: Kit) -> None:
    assert (await post(kit, kit.sut.admin_key, "", announcement("d-1"))).status_code == 202
    await completed(kit, "d-1")
    view = await status_of(kit, "d-1")
    assert view["status"] == "completed"
    assert [(h["by"], h["action"]) for h in view["history"]][-1] == ("siaran", "complete")
    await completed(kit, "d-1")  # consumed twice: nothing more
    assert [h["action"] for h in (await status_of(kit, "d-1"))["history"]] == [
        "publish", "complete"]  # fmt: skip
    assert kit.dead_letters == []


async def test_a_completed_announcement_can_be_corrected_and_completes_again(kit: Kit) -> None:
    assert (await post(kit, kit.sut.admin_key, "", announcement("d-2"))).status_code == 202
    await completed(kit, "d-2")
    async with kit.client() as client:
        r = await client.put("/v1/announcements/d-2", json=announcement("d-2", title="Baru"))
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "d-2", "status": "accepted", "revision": 2}
    await completed(kit, "d-2", revision=1)  # late news of the old revision
    assert (await status_of(kit, "d-2"))["status"] == "accepted"
    await completed(kit, "d-2", revision=2)
    view = await status_of(kit, "d-2")
    assert (view["status"], view["revision"]) == ("completed", 2)
    assert [h["action"] for h in view["history"]] == ["publish", "complete", "correct", "complete"]


@pytest.mark.parametrize("status", ["cancelled", "expired"])
async def test_other_ends_and_unpublished_announcements_are_left_alone(
    kit: Kit, status: str
) -> None:
    writer = kit.key("writer", "province:73", "draft")
    assert (await post(kit, writer, "", announcement("d-3", draft=True))).status_code == 201
    assert (await post(kit, kit.sut.admin_key, "", announcement("d-4"))).status_code == 202
    assert (await post(kit, kit.sut.admin_key, "/d-4/cancel")).status_code == 202
    assert (await post(kit, kit.sut.admin_key, "", announcement("d-5"))).status_code == 202
    await completed(kit, "d-3")
    await completed(kit, "d-4")
    await completed(kit, "d-5", status=status)
    await completed(kit, "unknown")
    assert (await status_of(kit, "d-3"))["status"] == "draft"
    assert (await status_of(kit, "d-4"))["status"] == "cancelled"
    assert (await status_of(kit, "d-5"))["status"] == "accepted"
    assert kit.dead_letters == []


async def test_an_undecodable_completion_is_dead_lettered_and_others_ignored(kit: Kit) -> None:
    bad = {"ce_type": AnnouncementCompleted.event_type, "ce_source": "siaran/metrics"}
    await kit.sut.publish(ANNOUNCEMENTS, b'{"announcement_id": 5}', key="x", headers=bad)
    other = {"ce_type": "id.siaran.announcement.something_new.v1"}
    await kit.sut.publish(ANNOUNCEMENTS, b"not even json", key="y", headers=other)
    assert (await post(kit, kit.sut.admin_key, "", announcement("d-6"))).status_code == 202
    [letter] = kit.dead_letters
    headers = {k: v.decode() for k, v in letter.headers}
    assert headers["siaran-error"].startswith("invalid event:")
    assert "announcement_id" in headers["siaran-error"]
    assert letter.value == b'{"announcement_id": 5}'
