"""The editorial workflow over HTTP: drafts, approval by a second key, rejection, and the
statuses and history the archive reports. Nothing fans out before approval."""

from __future__ import annotations

import pytest
from siaran_ingest.archive import Stale
from siaran_ingest.submissions import SubmissionState
from siaran_shared.auth import ApiKey

from services.ingest.tests.conftest import Kit, announcement, post, status_of


async def test_draft_is_stored_and_nothing_fans_out(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    r = await post(kit, writer, "", announcement("d-1", draft=True))
    assert r.status_code == 201, r.text
    assert r.json() == {"id": "d-1", "status": "draft"}
    shown = await status_of(kit, "d-1")
    assert shown["status"] == "draft"
    assert shown["revision"] == 1
    assert shown["submitted_by"] == "writer"
    assert [h["action"] for h in shown["history"]] == ["draft"]
    assert kit.accepted() == []


async def test_draft_key_waits_for_a_second_key_to_approve(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft", "approve")
    editor = kit.key("editor", "province:73", "approve")
    r = await post(kit, writer, "", announcement("p-1"))
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "p-1", "status": "pending_approval"}
    assert kit.accepted() == []

    r = await post(kit, writer, "/p-1/approve")
    assert r.status_code == 403, r.text
    assert "another key" in r.json()["error"]["message"]

    r = await post(kit, editor, "/p-1/approve")
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "p-1", "status": "accepted"}
    published = kit.accepted()
    assert [e.announcement.id for e in published] == ["p-1"]
    assert published[0].submitted_by == "writer"
    shown = await status_of(kit, "p-1")
    assert shown["status"] == "accepted"
    assert [(h["by"], h["action"]) for h in shown["history"]] == [
        ("writer", "submit"),
        ("editor", "approve"),
    ]


async def test_draft_submitted_then_rejected_with_reason(kit: Kit) -> None:
    writer = kit.key("writer", "regency:73.03", "draft")
    editor = kit.key("editor", "province:73", "approve")
    assert (await post(kit, writer, "", announcement("r-1", target={"regencies": ["73.03"]},
                                                     draft=True))).status_code == 201  # fmt: skip
    r = await post(kit, writer, "/r-1/submit")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_approval"

    r = await post(kit, editor, "/r-1/reject", {})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"].endswith("reason")

    r = await post(kit, editor, "/r-1/reject", {"reason": "data belum diverifikasi"})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "r-1", "status": "rejected"}
    shown = await status_of(kit, "r-1")
    assert shown["status"] == "rejected"
    assert shown["history"][-1]["reason"] == "data belum diverifikasi"

    r = await post(kit, editor, "/r-1/approve")
    assert r.status_code == 409, r.text
    message = r.json()["error"]["message"]
    assert "rejected" in message
    assert "pending_approval" in message
    assert kit.accepted() == []


async def test_publish_key_submitting_a_draft_publishes_it(kit: Kit) -> None:
    publisher = kit.key("desk", "province:73")
    assert (await post(kit, publisher, "", announcement("s-1", draft=True))).status_code == 201
    r = await post(kit, publisher, "/s-1/submit")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "accepted"
    assert [e.announcement.id for e in kit.accepted()] == ["s-1"]
    r = await post(kit, publisher, "/s-1/submit")
    assert r.status_code == 409, r.text
    assert "draft" in r.json()["error"]["message"]


async def test_approval_needs_the_role_and_the_scope(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    other = kit.key("other-writer", "province:73", "draft", "publish")
    outside = kit.key("jakarta", "province:31", "approve")
    assert (await post(kit, writer, "", announcement("x-1"))).status_code == 202
    r = await post(kit, other, "/x-1/approve")
    assert r.status_code == 403, r.text
    assert "approve role" in r.json()["error"]["message"]
    assert (await post(kit, outside, "/x-1/approve")).status_code in (403, 404)
    assert (await post(kit, writer, "/missing/approve")).status_code == 404
    approve_only = kit.key("approver", "province:73", "approve")
    r = await post(kit, approve_only, "", announcement("x-2"))
    assert r.status_code == 403, r.text
    assert kit.accepted() == []


async def test_publish_key_still_publishes_at_once(kit: Kit) -> None:
    r = await post(kit, kit.sut.admin_key, "", announcement("n-1"))
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "n-1", "status": "accepted"}
    shown = await status_of(kit, "n-1")
    assert [h["action"] for h in shown["history"]] == ["publish"]


async def test_unpublished_announcement_cannot_be_cancelled(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    assert (await post(kit, writer, "", announcement("c-1", draft=True))).status_code == 201
    r = await post(kit, kit.sut.admin_key, "/c-1/cancel")
    assert r.status_code == 409, r.text
    assert "draft" in r.json()["error"]["message"]
    assert kit.cancelled() == []


async def test_a_second_approval_of_the_same_record_is_refused(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    editor = kit.key("editor", "province:73", "approve")
    assert (await post(kit, writer, "", announcement("a-2"))).status_code == 202
    read_before = await kit.archive.get("a-2")
    assert read_before is not None
    assert (await post(kit, editor, "/a-2/approve")).status_code == 202
    with pytest.raises(Stale):
        await kit.archive.transition(
            read_before, SubmissionState.PENDING, ApiKey("k", "late", "admin", "h", "t"), "approve"
        )
    assert [e.announcement.id for e in kit.accepted()] == ["a-2"]
