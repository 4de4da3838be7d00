"""GET /v1/announcements: newest first, a page at a time, only what lies inside the key's
scope, filtered by status; bad parameters answer 422 naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest
from siaran_ingest.submissions import Submission

from services.ingest.tests.conftest import Kit, announcement, post

TARGETS: dict[str, dict[str, Any]] = {
    "n-national": {"national": True},
    "n-sulsel": {"provinces": ["73"]},
    "n-bantaeng": {"regencies": ["73.03"]},
    "n-makassar": {"regencies": ["73.71"]},
    "n-two-regencies": {"regencies": ["73.03", "73.71"]},
    "n-jakarta": {"provinces": ["31"]},
    "n-wit": {"zones": ["WIT"]},
}


async def listing(kit: Kit, token: str | None = None, **params: Any) -> Any:
    async with kit.client(token) as client:
        return await client.get("/v1/announcements", params=params)


async def ids(kit: Kit, token: str | None = None, **params: Any) -> list[str]:
    r = await listing(kit, token, **params)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


async def submit_all(kit: Kit) -> None:
    for announcement_id, target in TARGETS.items():
        r = await post(kit, kit.sut.admin_key, "", announcement(announcement_id, target=target))
        assert r.status_code == 202, r.text


async def test_pages_newest_first_cover_everything_once(kit: Kit) -> None:
    await submit_all(kit)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        r = await listing(kit, limit=3, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(TARGETS))
    first = (await listing(kit, limit=1)).json()["items"][0]
    assert (first["status"], first["revision"]) == ("accepted", 1)
    assert first["submitted_by"] == "test-admin"


@pytest.mark.parametrize(
    ("scope", "visible"),
    [
        ("province:73", {"n-sulsel", "n-bantaeng", "n-makassar", "n-two-regencies"}),
        ("regency:73.03", {"n-bantaeng"}),
        ("province:31", {"n-jakarta"}),
        ("province:94", set()),
        ("national", set(TARGETS)),
    ],
)
async def test_a_key_sees_what_lies_inside_its_scope(
    kit: Kit, scope: str, visible: set[str]
) -> None:
    await submit_all(kit)
    token = kit.key("reader", scope, "draft")
    assert set(await ids(kit, token, limit=200)) == visible


async def test_status_filter(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    assert (await post(kit, writer, "", announcement("s-draft", draft=True))).status_code == 201
    assert (await post(kit, writer, "", announcement("s-waiting"))).status_code == 202
    assert (await post(kit, kit.sut.admin_key, "", announcement("s-live"))).status_code == 202
    assert (await post(kit, kit.sut.admin_key, "", announcement("s-gone"))).status_code == 202
    assert (await post(kit, kit.sut.admin_key, "/s-gone/cancel")).status_code == 202
    assert await ids(kit, status="draft") == ["s-draft"]
    assert await ids(kit, status="pending_approval") == ["s-waiting"]
    assert await ids(kit, status="accepted") == ["s-live"]
    assert await ids(kit, status="cancelled") == ["s-gone"]
    assert await ids(kit, status="completed") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "published"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "djE6"}, "cursor"),
    ],
)
async def test_bad_parameters_are_a_422_naming_them(
    kit: Kit, params: dict[str, Any], field: str
) -> None:
    r = await listing(kit, **params)
    assert r.status_code == 422, r.text
    assert any(field in d["field"] for d in r.json()["error"]["details"]), r.text


async def test_records_archived_before_the_listing_are_upgraded(kit: Kit) -> None:
    await submit_all(kit)
    old = await kit.archive.get("n-sulsel")
    assert old is not None
    docs = kit.sut.runtime.store.collection("announcements")
    await docs.put("n-sulsel", old.model_dump(mode="json"))  # as an earlier version wrote it
    token = kit.key("reader", "province:73", "draft")
    assert "n-sulsel" not in await ids(kit, token)
    assert await kit.archive.submissions.upgrade() == 1
    assert "n-sulsel" in await ids(kit, token)
    upgraded = await kit.archive.get("n-sulsel")
    assert isinstance(upgraded, Submission)
    assert upgraded == old
