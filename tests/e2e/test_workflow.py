"""The editorial workflow on the real stack (bundled broker, services as processes): a writer's
submission waits for a second person's approval and only then reaches its channel, after which
ingest marks it completed (metrics' AnnouncementCompleted); a draft
is edited, submitted and rejected without anything leaving; a correction of a published
announcement is produced as revision 2 (id.siaran.announcement.updated.v1) and reaches the
channel as revision 2 under its own Idempotency-Key, with nothing posted twice."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from siaran_shared.events.topics import ANNOUNCEMENTS

from tests.e2e.harness import Receiver, RunningStack, eventually, read_to_end
from tests.e2e.test_ingest import cli_keys

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
UPDATED = "id.siaran.announcement.updated.v1"


async def tagged_channel(stack: RunningStack, receiver: Receiver, run: str) -> str:
    """A web channel in Bantaeng tagged with the run, so only this test's announcements
    (targeting that tag) reach it; its receiver path."""
    path = f"/hooks/workflow-{run}"
    async with stack.client("router") as router:
        r = await router.put(
            f"/v1/channels/workflow-{run}",
            json={"region": "73.03", "kind": "web", "name": f"Workflow {run}",
                  "endpoint": receiver.base + path, "tags": [run]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    return path


def body(announcement_id: str | None, run: str, **fields: Any) -> dict[str, Any]:
    return (
        {
            "title": "Posyandu serentak",
            "body": "Posyandu serentak dibuka di seluruh kecamatan.",
            "target": {"regencies": ["73.03"], "tags": [run]},
        }
        | ({"id": announcement_id} if announcement_id else {})
        | fields
    )


def new_key(stack: RunningStack, name: str, scope: str, *roles: str) -> str:
    role_args = [arg for role in roles for arg in ("--role", role)]
    out = cli_keys(stack, "create", "--name", name, "--scope", scope, *role_args)
    return out.splitlines()[-1]


@asynccontextmanager
async def as_key(stack: RunningStack, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack.url("ingest"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


async def on_topic(stack: RunningStack, announcement_id: str) -> list[tuple[str, Any]]:
    """(ce_type, data) of every record keyed by the announcement on the announcements topic."""
    records = await read_to_end(stack.stack.config.bootstrap, ANNOUNCEMENTS)
    return [
        (dict(r.headers)["ce_type"].decode(), json.loads(r.value or b"null"))
        for r in records
        if r.key == announcement_id.encode()
    ]


async def history(stack: RunningStack, announcement_id: str) -> dict[str, Any]:
    async with stack.client("ingest") as ingest:
        r = await ingest.get(f"/v1/announcements/{announcement_id}")
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def completed(stack: RunningStack, announcement_id: str, revision: int = 1) -> Any:
    """The announcement once ingest marked it completed (every delivery of the revision final,
    as metrics reports on the announcements topic)."""

    async def done() -> Any:
        view = await history(stack, announcement_id)
        return view if (view["status"], view["revision"]) == ("completed", revision) else None

    return await eventually(done, within=30, what=f"{announcement_id} r{revision} completed")


async def test_writer_submits_editor_approves_then_it_is_delivered(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await tagged_channel(stack, receiver, run)
    writer = new_key(stack, f"writer-{run}", "province:73", "draft")
    editor = new_key(stack, f"editor-{run}", "province:73", "approve")
    announcement_id = f"wf-{run}"
    async with as_key(stack, writer) as w:
        r = await w.post("/v1/announcements", json=body(announcement_id, run))
        assert r.status_code == 202, r.text
        assert r.json() == {"id": announcement_id, "status": "pending_approval"}
        r = await w.post(f"/v1/announcements/{announcement_id}/approve")
        assert r.status_code == 403, r.text
    # nothing was produced, so nothing can be posted: the topic holds no record of it
    assert await on_topic(stack, announcement_id) == []
    assert receiver.at(path) == []

    async with as_key(stack, editor) as e:
        r = await e.post(f"/v1/announcements/{announcement_id}/approve")
        assert r.status_code == 202, r.text
        assert r.json() == {"id": announcement_id, "status": "accepted"}
    await eventually(lambda: receiver.at(path), within=30, what="delivery after approval")
    [delivered] = receiver.at(path)
    assert delivered.json["data"]["announcement_id"] == announcement_id
    view = await completed(stack, announcement_id)
    assert [(h["by"], h["action"]) for h in view["history"]] == [
        (f"writer-{run}", "submit"),
        (f"editor-{run}", "approve"),
        ("siaran", "complete"),
    ]


async def test_a_draft_is_edited_submitted_and_rejected_without_leaving(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await tagged_channel(stack, receiver, run)
    writer = new_key(stack, f"writer-{run}", "regency:73.03", "draft")
    editor = new_key(stack, f"editor-{run}", "province:73", "approve")
    announcement_id = f"wd-{run}"
    async with as_key(stack, writer) as w:
        r = await w.post("/v1/announcements", json=body(announcement_id, run, draft=True))
        assert r.status_code == 201, r.text
        edited = body(None, run, title="Posyandu serentak (jadwal baru)")
        r = await w.put(f"/v1/announcements/{announcement_id}", json=edited)
        assert r.status_code == 200, r.text
        assert r.json() == {"id": announcement_id, "status": "draft", "revision": 1}
        r = await w.post(f"/v1/announcements/{announcement_id}/submit")
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending_approval"
    async with as_key(stack, editor) as e:
        r = await e.post(f"/v1/announcements/{announcement_id}/reject", json={})
        assert r.status_code == 422, r.text
        r = await e.post(
            f"/v1/announcements/{announcement_id}/reject", json={"reason": "belum diverifikasi"}
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"id": announcement_id, "status": "rejected"}
        r = await e.get("/v1/announcements", params={"status": "rejected"})
        assert announcement_id in [item["id"] for item in r.json()["items"]]
    view = await history(stack, announcement_id)
    assert view["title"] == "Posyandu serentak (jadwal baru)"
    assert [h["action"] for h in view["history"]] == ["draft", "edit", "submit", "reject"]
    assert view["history"][-1]["reason"] == "belum diverifikasi"
    assert await on_topic(stack, announcement_id) == []
    assert receiver.at(path) == []


async def test_a_correction_is_published_as_revision_two(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = await tagged_channel(stack, receiver, run)
    announcement_id = f"wc-{run}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=body(announcement_id, run))
        assert r.status_code == 202, r.text
        await eventually(lambda: receiver.at(path), within=30, what="revision 1 delivered")
        corrected = body(announcement_id, run, title="Posyandu serentak: lokasi diperbaiki")
        for _ in range(2):  # the same correction twice is one revision
            r = await ingest.put(f"/v1/announcements/{announcement_id}", json=corrected)
            assert r.status_code == 202, r.text
            assert r.json() == {"id": announcement_id, "status": "accepted", "revision": 2}
    view = await history(stack, announcement_id)
    assert (view["revision"], view["title"]) == (2, corrected["title"])
    assert [h["action"] for h in view["history"] if h["action"] != "complete"] == [
        "publish", "correct"]  # fmt: skip
    events = await on_topic(stack, announcement_id)
    updates = [data for ce_type, data in events if ce_type == UPDATED]
    assert len(updates) == 1, events
    assert updates[0]["revision"] == 2
    assert updates[0]["announcement"]["title"] == corrected["title"]

    await eventually(lambda: len(receiver.at(path)) >= 2, within=30, what="revision 2 delivered")
    # a later announcement to the same channel (its tasks share the channel's partition)
    # marks a point after which a second post of either revision would already have come
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=body(f"{announcement_id}-after", run))
        assert r.status_code == 202, r.text
    await eventually(lambda: len(receiver.at(path)) >= 3, within=30, what="the later delivery")
    first, second, later = receiver.at(path)
    delivery_id = f"{announcement_id}:workflow-{run}"
    assert first.headers["Idempotency-Key"] == delivery_id
    assert first.json["data"]["title"] == "Posyandu serentak"
    assert second.headers["Idempotency-Key"] == f"{delivery_id}:r2"
    assert second.json["type"] == UPDATED
    assert second.json["data"]["revision"] == 2
    assert second.json["data"]["title"] == corrected["title"]
    assert later.json["data"]["announcement_id"] == f"{announcement_id}-after"
    assert len(receiver.at(path)) == 3, "a revision was posted twice"
    view = await completed(stack, announcement_id, revision=2)
    assert [h["action"] for h in view["history"]][-2:] == ["correct", "complete"]
