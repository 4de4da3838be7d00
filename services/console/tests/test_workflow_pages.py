"""Approvals, preview as you type, failed channels, corrections and the admin pages, with
ingest, router and metrics faked over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from services.console.tests.conftest import Browser
from services.console.tests.fakes import (
    ADMIN_KEY,
    EDITOR_KEY,
    REGIONAL_KEY,
    WRITER_KEY,
    FakeApis,
    report,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def pending(apis: FakeApis, announcement_id: str, by: str, **fields: Any) -> None:
    apis.announcements[announcement_id] = {
        "id": announcement_id,
        "title": "Vaksinasi",
        "body": "Isi",
        "target": {"national": True, "provinces": [], "kinds": []},
        "status": "pending_approval",
        "revision": 1,
        "submitted_by": by,
        "accepted_at": "2026-12-01T01:00:00+00:00",
    } | fields


async def test_a_writer_submits_and_it_waits_for_approval(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in(WRITER_KEY)
    page = (await browser.client.get("/compose")).text
    assert 'href="/approvals"' not in page  # the writer's key has no approve role
    assert "Ajukan untuk persetujuan" in page  # nor the publish role
    response = await browser.post(
        "/compose", {"title": "T", "body": "B", "national": "on"}, from_page="/compose"
    )
    assert response.status_code == 303
    assert apis.announcements["a1"]["status"] == "pending_approval"
    shown = (await browser.client.get(response.headers["location"])).text
    assert "menunggu persetujuan" in shown.lower()
    assert (await browser.client.get("/approvals")).status_code == 403


async def test_save_as_draft_then_submit(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in(WRITER_KEY)
    response = await browser.post(
        "/compose",
        {"title": "T", "body": "B", "national": "on", "action": "draft"},
        from_page="/compose",
    )
    assert response.status_code == 303
    assert apis.announcements["a1"]["status"] == "draft"
    await browser.post("/announcements/a1/submit", {}, from_page="/announcements/a1")
    assert apis.announcements["a1"]["status"] == "pending_approval"


async def test_the_approvals_queue_previews_and_approves(browser: Browser, apis: FakeApis) -> None:
    pending(apis, "p1", "writer", title=XSS, body="x" * 400)
    pending(apis, "p2", "editor")
    await browser.sign_in(EDITOR_KEY)
    page = (await browser.client.get("/approvals")).text
    assert 'aria-current="page">Persetujuan' in page
    queue = page[page.index('data-id="p1"') : page.index('data-id="p2"')]
    assert "280" in queue  # the x preview: length of limit
    assert "dipotong" in queue  # truncated
    assert "instagram" in queue  # the media_required warning
    assert "Setujui dan kirim" in queue
    own = page[page.index('data-id="p2"') :]
    assert "menunggu pemberi persetujuan lain" in own
    assert "Setujui dan kirim" not in own
    assert XSS not in page
    response = await browser.post("/approvals/p1/approve", {}, from_page="/approvals")
    assert response.status_code == 303
    assert response.headers["location"] == "/announcements/p1"
    assert apis.announcements["p1"]["status"] == "accepted"
    refused = await browser.post("/approvals/p2/approve", {}, from_page="/approvals")
    assert refused.headers["location"] == "/approvals"
    assert "may not approve it too" in (await browser.client.get("/approvals")).text


async def test_reject_needs_a_reason(browser: Browser, apis: FakeApis) -> None:
    pending(apis, "p1", "writer")
    await browser.sign_in(EDITOR_KEY)
    blank = await browser.post("/approvals/p1/reject", {"reason": " "}, from_page="/approvals")
    assert blank.status_code == 422
    assert "Beri alasan" in blank.text
    assert apis.announcements["p1"]["status"] == "pending_approval"
    assert not [c for c in apis.calls if c.url.path.endswith("/reject")]  # not even sent
    done = await browser.post("/approvals/p1/reject", {"reason": XSS}, from_page="/approvals")
    assert done.status_code == 303
    assert apis.announcements["p1"]["status"] == "rejected"
    shown = (await browser.client.get("/announcements/p1")).text
    assert "Ditolak" in shown
    assert XSS not in shown
    assert "&lt;script&gt;" in shown


async def test_without_the_list_route_the_queue_says_so(browser: Browser, apis: FakeApis) -> None:
    apis.missing_routes |= {"list", "me"}
    await browser.sign_in(ADMIN_KEY)  # /v1/keys/me missing: admin from GET /v1/keys
    page = await browser.client.get("/approvals")
    assert page.status_code == 200
    assert "belum tersedia" in page.text
    assert 'href="/admin/keys"' in page.text


async def test_preview_as_you_type_and_without_javascript(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in()
    fields = {"title": XSS, "body": "Isi", "national": "on", "kinds": "x"}
    fragment = await browser.post("/compose/preview", fields, from_page="/compose")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-kind="x"' in fragment.text
    assert XSS not in fragment.text
    sent = [c for c in apis.calls if c.url.path == "/v1/previews"][-1]
    assert b'"kinds":["x"]' in sent.content.replace(b" ", b"")
    missing = await browser.post("/compose/preview", {"body": "x"}, from_page="/compose")
    assert "<code>title</code>" in missing.text  # the API's field detail, what to fix
    button = await browser.post("/compose", fields | {"action": "preview"}, from_page="/compose")
    assert button.status_code == 200
    assert 'data-kind="x"' in button.text
    assert "a1" not in apis.announcements  # previewing submits nothing
    refused = await browser.client.post("/compose/preview", data=fields)
    assert refused.status_code == 403  # no CSRF token


async def test_failed_channels_and_a_correction(browser: Browser, apis: FakeApis) -> None:
    pending(apis, "a1", "admin", status="accepted", hashtags=["GPR"], priority="high")
    apis.reports["a1"] = report("a1", delivered=1, planned=2)
    apis.deliveries["a1"] = [
        {"delivery_id": "d1", "channel_id": XSS, "region": "73", "kind": "web",
         "status": "failed", "reason": "HTTP 410 gone", "attempts": 3, "delivered_at": None},
    ]  # fmt: skip
    await browser.sign_in()
    page = (await browser.client.get("/announcements/a1")).text
    failed = page[page.index('id="failed-title"') :]
    assert "HTTP 410 gone" in failed
    assert "Sulawesi Selatan" in failed  # the region by name
    assert XSS not in page
    assert '<td data-label="Percobaan">3</td>' in failed
    bad = await browser.post("/announcements/a1/correct", {"title": " ", "body": "B"},
                             from_page="/announcements/a1")  # fmt: skip
    assert bad.status_code == 422
    assert 'id="e-title"' in bad.text
    fixed = await browser.post(
        "/announcements/a1/correct",
        {"title": "Vaksinasi (ralat)", "body": "Isi baru", "hashtags": "#GPR #Ralat"},
        from_page="/announcements/a1",
    )
    assert fixed.status_code == 303
    stored = apis.announcements["a1"]
    assert stored["revision"] == 2
    assert stored["hashtags"] == ["GPR", "Ralat"]
    assert stored["priority"] == "high"  # kept from the announcement
    assert stored["target"] == {"national": True, "provinces": [], "kinds": []}
    shown = (await browser.client.get("/announcements/a1")).text
    assert "revisi 2" in shown
    assert 'data-field="revision">2<' in shown


async def test_failed_channels_unavailable_is_said(browser: Browser, apis: FakeApis) -> None:
    pending(apis, "a1", "admin", status="accepted")
    apis.deliveries["a1"] = []
    await browser.sign_in()
    assert "Tidak ada kanal yang gagal" in (await browser.client.get("/announcements/a1")).text
    apis.missing_routes.add("deliveries")  # 404: not in the ledger yet, or no route yet
    assert (await browser.client.get("/announcements/a1")).status_code == 200


async def test_admin_keys_create_shows_the_key_once_and_revokes(
    browser: Browser, apis: FakeApis
) -> None:
    await browser.sign_in()
    bad = await browser.post("/admin/keys", {"name": "", "scope": "national"},
                             from_page="/admin/keys")  # fmt: skip
    assert bad.status_code == 422
    assert 'id="e-name"' in bad.text
    created = await browser.post(
        "/admin/keys",
        {"name": XSS, "scope": "province:73", "roles": ["draft", "approve"]},
        from_page="/admin/keys",
    )
    assert created.status_code == 201
    assert "sk-new-k1" in created.text
    assert XSS not in created.text
    assert apis.keys["k1"]["roles"] == ["draft", "approve"]
    assert "sk-new-k1" not in (await browser.client.get("/admin/keys")).text  # once
    await browser.post("/admin/keys/k1/revoke", {}, from_page="/admin/keys")
    assert apis.keys["k1"]["revoked_at"]


async def test_admin_dead_letters_list_and_replay(browser: Browser, apis: FakeApis) -> None:
    apis.dead["dl1"] = {"id": "dl1", "origin_topic": "siaran.inbound.v1", "error": XSS,
                        "dead_lettered_by": "ingest", "key": None,
                        "received_at": "2026-12-01T01:00:00Z", "replayed_at": None}  # fmt: skip
    await browser.sign_in()
    page = (await browser.client.get("/admin/dead-letters")).text
    assert "siaran.inbound.v1" in page
    assert XSS not in page
    response = await browser.post("/admin/dead-letters/dl1/replay", {},
                                  from_page="/admin/dead-letters")  # fmt: skip
    assert response.status_code == 303
    assert apis.replayed == ["dl1"]


async def test_admin_pages_hidden_and_refused_for_other_keys(browser: Browser) -> None:
    await browser.sign_in(REGIONAL_KEY)
    page = (await browser.client.get("/announcements")).text
    assert "/admin/keys" not in page
    assert 'href="/approvals"' not in page  # publish only
    for path in ("/admin/keys", "/admin/dead-letters"):
        assert (await browser.client.get(path)).status_code == 403
    token = await browser.csrf("/announcements")
    refused = await browser.client.post("/admin/keys", data={"csrf_token": token, "name": "x"})
    assert refused.status_code == 403


async def test_every_new_form_refuses_a_missing_csrf_token(
    browser: Browser, apis: FakeApis
) -> None:
    pending(apis, "p1", "writer")
    await browser.sign_in()
    for path in (
        "/approvals/p1/approve",
        "/approvals/p1/reject",
        "/announcements/p1/correct",
        "/announcements/p1/submit",
        "/compose/preview",
        "/admin/keys",
        "/admin/keys/k1/revoke",
        "/admin/dead-letters/dl1/replay",
    ):
        response = await browser.client.post(path, data={"reason": "r", "title": "t"})
        assert response.status_code == 403, path
    assert apis.announcements["p1"]["status"] == "pending_approval"
    assert not apis.keys
    assert not apis.replayed


async def test_a_garbled_preview_answer_is_no_crash(browser: Browser, apis: FakeApis) -> None:
    apis.preview_answer = httpx.Response(200, json={"by_kind": {"x": "garbled"}})
    await browser.sign_in()
    fields = {"title": "T", "body": "B", "national": "on"}
    assert (await browser.post("/compose/preview", fields, from_page="/compose")).status_code == 200


async def test_approve_and_reject_from_the_announcements_own_page(
    browser: Browser, apis: FakeApis
) -> None:
    pending(apis, "p1", "writer")
    pending(apis, "p2", "writer")
    await browser.sign_in(EDITOR_KEY)
    page = (await browser.client.get("/announcements/p1")).text
    assert 'action="/approvals/p1/approve"' in page
    await browser.post("/approvals/p1/approve", {}, from_page="/announcements/p1")
    assert apis.announcements["p1"]["status"] == "accepted"
    done = await browser.post(
        "/approvals/p2/reject",
        {"reason": "ejaan", "next": "/announcements/p2"},
        from_page="/announcements/p2",
    )
    assert done.headers["location"] == "/announcements/p2"
    assert apis.announcements["p2"]["status"] == "rejected"
    pending(apis, "p3", "admin")
    await browser.post("/signout", {}, from_page="/announcements")
    await browser.sign_in(WRITER_KEY)
    assert 'action="/approvals/' not in (await browser.client.get("/announcements/p3")).text


async def test_a_blank_reason_on_the_announcements_page_is_said_there(
    browser: Browser, apis: FakeApis
) -> None:
    pending(apis, "p1", "writer")
    await browser.sign_in(EDITOR_KEY)
    blank = await browser.post(
        "/approvals/p1/reject", {"reason": "", "next": "/announcements/p1"},
        from_page="/announcements/p1",
    )  # fmt: skip
    assert blank.status_code == 422
    assert 'id="e-reason-0"' in blank.text
    assert apis.announcements["p1"]["status"] == "pending_approval"


async def test_media_rows_become_the_media_field(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in()
    fields = {
        "title": "T",
        "body": "B",
        "national": "on",
        "media_url_1": "https://example.go.id/poster.jpg",
        "media_alt_1": XSS,
        "media_url_2": "",
        "media_url_3": "https://example.go.id/klip.mp4",
        "media_type_3": "video",
    }
    page = await browser.post("/compose", fields | {"action": "preview"}, from_page="/compose")
    assert 'value="https://example.go.id/klip.mp4"' in page.text  # kept in the form
    assert XSS not in page.text
    await browser.post("/compose", fields, from_page="/compose")
    assert apis.announcements["a1"]["media"] == [
        {"url": "https://example.go.id/poster.jpg", "type": "image", "alt": XSS},
        {"url": "https://example.go.id/klip.mp4", "type": "video"},
    ]
