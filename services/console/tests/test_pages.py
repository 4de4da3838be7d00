"""The pages, with ingest, router and metrics faked over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from siaran_console.backends import ApiProblem, Backends

from services.console.tests.conftest import Browser, settings
from services.console.tests.fakes import ADMIN_KEY, REGIONAL_KEY, FakeApis, report

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_compose_submits_the_form_as_the_contract_body(
    browser: Browser, apis: FakeApis
) -> None:
    await browser.sign_in()
    response = await browser.post(
        "/compose",
        {
            "title": "Vaksinasi",
            "body": "Isi",
            "hashtags": "#GPR, Kominfo",
            "provinces": "73",
            "regencies": "71.71",
            "kinds": "web",
            "tags": "official",
            "fallback": "x",
            "priority": "high",
            "publish_at": "2026-12-02T09:30",
            "schedule_zone": "WITA",
        },
        from_page="/compose",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/announcements/a1"
    sent = apis.announcements["a1"]
    assert sent["hashtags"] == ["GPR", "Kominfo"]
    assert sent["target"] == {
        "national": False,
        "provinces": ["73"],
        "regencies": ["71.71"],
        "zones": [],
        "kinds": ["web"],
        "tags": ["official"],
    }
    assert sent["publish_at"] == "2026-12-02T09:30:00+08:00"
    assert sent["priority"] == "high"
    assert sent["fallback"] == {"kinds": ["x"]}
    assert "summary" not in sent
    assert "link" not in sent


async def test_compose_shows_the_apis_field_details_next_to_the_fields(
    browser: Browser, apis: FakeApis
) -> None:
    apis.submit_answer = httpx.Response(
        422,
        json={
            "error": {
                "code": "invalid_request",
                "message": "invalid announcement: check title, target.provinces",
                "details": [
                    {"field": "title", "message": "must not be empty or only whitespace"},
                    {"field": "target.provinces[0]", "message": "unknown province code(s) '99'"},
                ],
            }
        },
    )
    await browser.sign_in()
    response = await browser.post(
        "/compose", {"title": " ", "body": XSS, "provinces": "73"}, from_page="/compose"
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="e-title"' in page
    assert "must not be empty or only whitespace" in page
    assert 'id="e-provinces"' in page
    assert "unknown province code(s) &#39;99&#39;" in page
    assert 'href="#f-title"' in page
    assert XSS not in page
    assert "&lt;script&gt;" in page
    assert 'id="p-73" name="provinces" type="checkbox" value="73" checked' in page


async def test_delivery_page_shows_the_province_grid_and_cancel(
    browser: Browser, apis: FakeApis
) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "title": XSS,
        "body": XSS,
        "summary": XSS,
        "link": "javascript:alert(1)",
        "hashtags": [XSS],
        "status": "accepted",
        "submitted_by": XSS,
        "accepted_at": "2026-12-01T01:00:00+00:00",
    }
    apis.reports["a1"] = report("a1", delivered=3, planned=4) | {
        "regions_without_delivery": ["73.03", "ID", "73"]
    }
    await browser.sign_in()
    page = (await browser.client.get("/announcements/a1")).text
    assert "3 wilayah sasaran belum menerima" in page
    listed = page[page.index('class="not-reached"') :]
    assert listed.index("Indonesia") < listed.index("Sulawesi Selatan") < listed.index("Bantaeng")
    assert XSS not in page
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page
    assert page.count(" data-province=") == 39  # 38 provinces and the national tile
    assert 'class="tile s3" data-province="73"' in page  # 3 of 4: 75 %
    assert "1 Des 2026, 09.00 WITA" not in page  # the person's zone (WIB) is the default
    assert "1 Des 2026, 08.00 WIB" in page
    response = await browser.post(
        "/announcements/a1/cancel", {"reason": "salah"}, from_page="/announcements/a1"
    )
    assert response.status_code == 303
    assert apis.announcements["a1"]["status"] == "cancelled"


async def test_english_on_request_and_dates_in_the_chosen_zone(
    browser: Browser, apis: FakeApis
) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "title": "T",
        "body": "B",
        "status": "accepted",
        "submitted_by": "k",
        "accepted_at": "2026-12-01T01:00:00+00:00",
    }
    await browser.sign_in()
    await browser.post(
        "/preferences",
        {"locale": "en", "zone": "WIT", "next": "/announcements"},
        from_page="/announcements",
    )
    page = (await browser.client.get("/announcements")).text
    assert '<html lang="en">' in page
    assert "Compose an announcement" in page
    assert "1 Dec 2026, 10:00 WIT" in page


async def test_channels_add_edit_disable_delete(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in()
    bad = await browser.post(
        "/channels/new",
        {"id": "c1", "region": "73.03", "kind": "web", "name": "Bantaeng", "endpoint": "ftp://x"},
        from_page="/channels/new",
    )
    assert bad.status_code == 422
    assert "unknown endpoint scheme" in bad.text
    fields = {
        "id": "c1",
        "region": "73.03",
        "kind": "web",
        "name": XSS,
        "endpoint": "https://bantaeng.example/hook",
        "enabled": "on",
        "tags": "official",
    }
    assert (
        await browser.post("/channels/new", fields, from_page="/channels/new")
    ).status_code == 303
    assert apis.channels["c1"]["tags"] == ["official"]
    assert apis.channels["c1"]["enabled"]
    again = await browser.post("/channels/new", fields, from_page="/channels/new")
    assert again.status_code == 409
    listing = (await browser.client.get("/channels")).text
    assert XSS not in listing
    assert "Kabupaten Bantaeng" in listing
    await browser.post("/channels/c1/enabled", {}, from_page="/channels")
    assert apis.channels["c1"]["enabled"] is False
    apis.needs_reconnect.add("c1")
    assert "perlu disambungkan ulang" in (await browser.client.get("/channels/c1")).text
    await browser.post("/channels/c1/delete", {}, from_page="/channels/c1")
    assert "c1" not in apis.channels


async def test_a_regional_key_sees_the_apis_refusal_on_channels(browser: Browser) -> None:
    await browser.sign_in(REGIONAL_KEY)
    assert 'href="/channels"' not in (await browser.client.get("/announcements")).text
    response = await browser.client.get("/channels")
    assert response.status_code == 403
    assert "needs an admin key" in response.text


async def test_coverage_grid_counts_regions_per_province_and_kind(
    browser: Browser, apis: FakeApis
) -> None:
    apis.channels["c1"] = {"id": "c1", "region": "73.03", "kind": "web", "enabled": True}
    apis.channels["c2"] = {"id": "c2", "region": "73", "kind": "web", "enabled": True}
    await browser.sign_in()
    page = (await browser.client.get("/coverage")).text
    assert '<td class="cell s0">2/25</td>' in page  # Sulsel: itself and 24 regencies


async def test_compose_offers_only_the_regions_the_key_reaches(
    browser: Browser, apis: FakeApis
) -> None:
    apis.channels["c1"] = {"id": "c1", "region": "73.03", "kind": "web", "enabled": True}
    apis.channels["c2"] = {"id": "c2", "region": "31", "kind": "x", "enabled": True}
    await browser.sign_in(REGIONAL_KEY)
    page = (await browser.client.get("/compose")).text
    assert 'value="73"' in page
    assert 'value="73.03"' in page
    assert 'value="31"' not in page
    assert 'value="31.71"' not in page
    assert 'id="f-national"' not in page
    assert 'id="f-zones"' not in page
    coverage = (await browser.client.get("/coverage")).text
    assert coverage.count("<tr data-province=") == 1
    assert '<td class="cell s0">1/25</td>' in coverage
    assert ">x</th>" not in coverage  # the kinds of other provinces are not the key's
    assert coverage.count("<tr data-region=") == 25  # one province: its regions in detail
    assert '<tr data-region="73.03">' in coverage


async def test_compose_offers_fallback_kinds_and_shows_their_errors_there(
    browser: Browser, apis: FakeApis
) -> None:
    apis.channels["c1"] = {"id": "c1", "region": "73.03", "kind": "web", "enabled": True}
    apis.channels["c2"] = {"id": "c2", "region": "73.03", "kind": "telegram", "enabled": True}
    await browser.sign_in()
    page = (await browser.client.get("/compose")).text
    assert "<legend>Jenis kanal cadangan</legend>" in page
    assert 'id="fb-telegram" name="fallback" type="checkbox" value="telegram"' in page
    apis.submit_answer = httpx.Response(422, json={"error": {
        "code": "invalid_request", "message": "invalid announcement: check fallback.kinds",
        "details": [{"field": "fallback.kinds[0]", "message": "unknown kind 'fax'"}]}})  # fmt: skip
    response = await browser.post(
        "/compose",
        {"title": "T", "body": "B", "provinces": "73", "fallback": ["telegram", "web"]},
        from_page="/compose",
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="e-fallback"' in page
    assert "unknown kind &#39;fax&#39;" in page
    assert 'value="telegram" checked' in page  # what the person chose stays chosen
    assert 'value="web" checked' in page


async def test_the_announcements_list_filters_by_the_region_a_target_reaches(
    browser: Browser, apis: FakeApis
) -> None:
    for announcement_id, province in (("sulsel", "73"), ("jakarta", "31")):
        apis.announcements[announcement_id] = {
            "id": announcement_id, "title": f"Untuk {province}", "body": "B",
            "status": "accepted", "submitted_by": "k", "target": {"provinces": [province]},
            "accepted_at": "2026-12-01T01:00:00+00:00",
        }  # fmt: skip
    await browser.sign_in()
    page = (await browser.client.get("/announcements", params={"region": "73.03"})).text
    assert 'data-id="sulsel"' in page
    assert 'data-id="jakarta"' not in page
    assert '<option value="73.03" selected>Kabupaten Bantaeng</option>' in page
    assert 'data-live="/events/announcements?region=73.03"' in page  # live rows: same filter
    listed = [c.url.params.get("region") for c in apis.calls
              if c.url.host == "metrics.test" and c.url.path == "/v1/announcements"]  # fmt: skip
    assert listed[-1] == "73.03"
    unknown = (await browser.client.get("/announcements", params={"region": "99"})).text
    assert 'data-id="jakarta"' in unknown  # not a region: no filter, as if none was chosen


async def test_a_regional_officer_reads_dates_in_the_provinces_zone(
    browser: Browser, apis: FakeApis
) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "title": "T",
        "body": "B",
        "status": "accepted",
        "submitted_by": "k",
        "accepted_at": "2026-12-01T01:00:00+00:00",
    }
    await browser.sign_in(REGIONAL_KEY)  # province:73, Sulawesi Selatan: WITA
    assert "1 Des 2026, 09.00 WITA" in (await browser.client.get("/announcements")).text


async def test_a_service_that_is_down_or_garbled_is_a_problem_not_a_crash(
    tmp_path: Path,
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def garbled(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>")

    for handler, status in ((down, 503), (garbled, 502)):
        backends = Backends(settings(tmp_path), transport=httpx.MockTransport(handler))
        with pytest.raises(ApiProblem) as refused:
            await backends.coverage(ADMIN_KEY)
        assert refused.value.status == status
        await backends.close()
