"""PUT /v1/announcements/{id}: edits of drafts and announcements waiting for approval (back to
draft), corrections of published ones (the next revision, produced as
id.siaran.announcement.updated.v1 before it is recorded), and every refusal naming why."""

from __future__ import annotations

from typing import Any

import pytest
from siaran_ingest.completion import complete
from siaran_ingest.submissions import Submission
from siaran_shared.events import AnnouncementCompleted, AnnouncementUpdated

from services.ingest.tests.conftest import Kit, announcement, post
from services.ingest.tests.conftest import status_of as shown


async def put(kit: Kit, token: str, announcement_id: str, body: Any, **headers: str) -> Any:
    async with kit.client(token, **headers) as client:
        if isinstance(body, bytes):
            return await client.put(f"/v1/announcements/{announcement_id}", content=body)
        return await client.put(f"/v1/announcements/{announcement_id}", json=body)


def actions(view: dict[str, Any]) -> list[str]:
    return [h["action"] for h in view["history"]]


async def test_editing_a_draft_replaces_it_and_nothing_fans_out(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    assert (await post(kit, writer, "", announcement("e-1", draft=True))).status_code == 201
    r = await put(kit, writer, "e-1", announcement(None, title="Vaksinasi gratis (revisi)"))
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "e-1", "status": "draft", "revision": 1}
    again = await put(kit, writer, "e-1", announcement("e-1", title="Vaksinasi gratis (revisi)"))
    assert again.status_code == 200, again.text
    view = await shown(kit, "e-1")
    assert (view["title"], view["status"], view["revision"]) == (
        "Vaksinasi gratis (revisi)", "draft", 1)  # fmt: skip
    assert actions(view) == ["draft", "edit"], "the same body twice is one edit"
    assert view["history"][-1]["by"] == "writer"
    assert kit.accepted() == []
    assert kit.updated() == []


async def test_editing_an_announcement_waiting_for_approval_takes_it_back_to_draft(
    kit: Kit,
) -> None:
    writer = kit.key("writer", "province:73", "draft")
    editor = kit.key("editor", "province:73", "approve")
    assert (await post(kit, writer, "", announcement("e-2"))).status_code == 202
    r = await put(kit, writer, "e-2", announcement("e-2", body="Isi yang diperbaiki."))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "draft"
    r = await post(kit, editor, "/e-2/approve")
    assert r.status_code == 409, r.text
    assert "draft" in r.text
    assert "pending_approval" in r.text
    view = await shown(kit, "e-2")
    assert actions(view) == ["submit", "edit"]
    assert kit.accepted() == []


async def test_a_correction_publishes_revision_two_once(kit: Kit) -> None:
    desk = kit.key("desk", "province:73")
    assert (await post(kit, desk, "", announcement("c-1"))).status_code == 202
    corrected = announcement("c-1", title="Vaksinasi gratis: jadwal diperbaiki")
    r = await put(kit, desk, "c-1", corrected)
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "c-1", "status": "accepted", "revision": 2}
    again = await put(kit, desk, "c-1", corrected)
    assert again.status_code == 202, again.text
    assert again.json()["revision"] == 2

    [event] = kit.updated()
    assert isinstance(event, AnnouncementUpdated)
    assert (event.revision, event.announcement.title) == (2, corrected["title"])
    assert (event.updated_by, event.submitted_by) == ("desk", "desk")
    assert event.accepted_at == kit.accepted()[0].accepted_at
    assert kit.keys_of(AnnouncementUpdated.event_type) == ["c-1"]
    view = await shown(kit, "c-1")
    assert (view["status"], view["revision"], view["title"]) == ("accepted", 2, corrected["title"])
    assert actions(view) == ["publish", "correct"]

    r = await put(kit, desk, "c-1", announcement("c-1", title="Ketiga"))
    assert r.json()["revision"] == 3
    assert [e.revision for e in kit.updated()] == [2, 3]


async def test_a_correction_kafka_did_not_confirm_changes_nothing(kit: Kit) -> None:
    desk = kit.key("desk", "province:73")
    assert (await post(kit, desk, "", announcement("c-2"))).status_code == 202

    async def broker_down(event: Any) -> None:
        raise RuntimeError("broker down")

    kit.publish.fault = broker_down
    r = await put(kit, desk, "c-2", announcement("c-2", title="Diperbaiki"))
    assert r.status_code == 503, r.text
    assert "nothing changed" in r.json()["error"]["message"]
    view = await shown(kit, "c-2")
    assert (view["revision"], view["title"], actions(view)) == (1, "Vaksinasi gratis", ["publish"])

    kit.publish.fault = None
    r = await put(kit, desk, "c-2", announcement("c-2", title="Diperbaiki"))
    assert r.status_code == 202, r.text
    assert [e.revision for e in kit.updated()] == [2]


async def test_correcting_needs_the_publish_role(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft", "approve")
    assert (await post(kit, kit.sut.admin_key, "", announcement("c-3"))).status_code == 202
    r = await put(kit, writer, "c-3", announcement("c-3", title="Diperbaiki"))
    assert r.status_code == 403, r.text
    assert "publish role" in r.json()["error"]["message"]
    approver = kit.key("approver", "province:73", "approve")
    assert (await post(kit, writer, "", announcement("c-4", draft=True))).status_code == 201
    r = await put(kit, approver, "c-4", announcement("c-4", title="Diperbaiki"))
    assert r.status_code == 403, r.text
    assert kit.updated() == []


@pytest.mark.parametrize("final", ["cancelled", "rejected"])
async def test_cancelled_or_rejected_cannot_be_replaced(kit: Kit, final: str) -> None:
    writer = kit.key("writer", "province:73", "draft")
    editor = kit.key("editor", "province:73", "approve", "publish")
    if final == "cancelled":
        assert (await post(kit, editor, "", announcement("f-1"))).status_code == 202
        assert (await post(kit, editor, "/f-1/cancel")).status_code == 202
    else:
        assert (await post(kit, writer, "", announcement("f-1"))).status_code == 202
        assert (await post(kit, editor, "/f-1/reject", {"reason": "salah"})).status_code == 200
    r = await put(kit, editor, "f-1", announcement("f-1", title="Diperbaiki"))
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert final in error["message"]
    assert "accepted" in error["message"]
    assert error["details"][0]["field"] == "status"
    assert kit.updated() == []


async def test_the_new_target_must_lie_in_the_key_scope(kit: Kit) -> None:
    desk = kit.key("sulsel", "province:73")
    jakarta = kit.key("jakarta", "province:31")
    assert (await post(kit, desk, "", announcement("s-1"))).status_code == 202
    r = await put(kit, desk, "s-1", announcement("s-1", target={"national": True}))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["details"][0]["field"] == "target"
    r = await put(kit, jakarta, "s-1", announcement("s-1", target={"provinces": ["31"]}))
    assert r.status_code == 404, r.text
    assert (await put(kit, desk, "missing", announcement("missing"))).status_code == 404
    assert kit.updated() == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (announcement("other"), {}, 422, "id"),
        (announcement("b-1", title=""), {}, 422, "title"),
        (announcement("b-1", callback_url="http://169.254.169.254/"), {}, 422, "callback_url"),
        (announcement("b-1", fallback={"kinds": []}), {}, 422, "fallback.kinds"),
        (b"{not json", {}, 422, "body"),
        (b"<alert/>", {"content-type": "application/cap+xml"}, 415, "content-type"),
    ],
)
async def test_bad_replacements_name_the_field(
    kit: Kit, body: Any, headers: dict[str, str], status: int, field: str
) -> None:
    assert (await post(kit, kit.sut.admin_key, "", announcement("b-1"))).status_code == 202
    r = await put(kit, kit.sut.admin_key, "b-1", body, **headers)
    assert r.status_code == status, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]
    assert kit.updated() == []


async def test_a_cancellation_kafka_refused_is_a_503(kit: Kit) -> None:
    # regression: a broker error other than a timeout escaped as a 500
    assert (await post(kit, kit.sut.admin_key, "", announcement("k-1"))).status_code == 202

    async def broker_down(event: Any) -> None:
        raise RuntimeError("broker down")

    kit.publish.fault = broker_down
    r = await post(kit, kit.sut.admin_key, "/k-1/cancel")
    assert r.status_code == 503, r.text
    assert (await shown(kit, "k-1"))["status"] == "accepted"


async def test_an_editor_who_rewrote_the_text_may_not_approve_it(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    editor = kit.key("editor", "province:73", "draft", "approve")
    other = kit.key("other-editor", "province:73", "approve")
    assert (await post(kit, writer, "", announcement("t-1"))).status_code == 202
    r = await put(kit, editor, "t-1", announcement("t-1", title="Ditulis ulang"))
    assert r.status_code == 200, r.text
    assert (await post(kit, writer, "/t-1/submit")).status_code == 202
    r = await post(kit, editor, "/t-1/approve")
    assert r.status_code == 403, r.text
    assert "wrote part of" in r.json()["error"]["message"]
    assert kit.accepted() == []
    assert (await post(kit, other, "/t-1/approve")).status_code == 202
    assert [e.announcement.title for e in kit.accepted()] == ["Ditulis ulang"]


async def test_a_completion_between_the_read_and_the_write_does_not_lose_the_correction(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metrics' completion may mark the announcement completed while a correction is being
    published: the correction (already on the topic) is recorded on the completed record,
    never answered 409 with revision 2 out and the archive still at revision 1."""
    desk = kit.key("desk", "province:73")
    assert (await post(kit, desk, "", announcement("c-9"))).status_code == 202
    submissions = kit.archive.submissions
    real_move = submissions.move
    raced: list[bool] = []

    async def completed_first(before: Submission, after: Submission) -> bool:
        if not raced and after.revision == 2:
            raced.append(True)
            event = AnnouncementCompleted(announcement_id="c-9", revision=1, report={})
            assert await complete(submissions, event)
        return await real_move(before, after)

    monkeypatch.setattr(submissions, "move", completed_first)
    r = await put(kit, desk, "c-9", announcement("c-9", title="Jadwal diperbaiki"))
    assert r.status_code == 202, r.text
    assert r.json()["revision"] == 2
    view = await shown(kit, "c-9")
    assert (view["status"], view["revision"]) == ("accepted", 2)
    assert actions(view) == ["publish", "complete", "correct"]
    assert [e.revision for e in kit.updated()] == [2]
