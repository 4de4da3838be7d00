"""The console in a real browser against the real stack: sign in, compose and submit a
national announcement, watch its delivery reach 100 % without a reload, cancel it; channels
and coverage within the key's scope; XSS in every text field stays text; CSRF refused;
sign-out. Screenshots of every page go to tests/browser/artifacts/ (git-ignored)."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import DESKTOP, MARKS, PHONE, Site, announcement_id

pytestmark = MARKS

XSS = '"><script>alert(1)</script><img src=x onerror="alert(2)">'


async def sign_in(page: Page, key: str) -> None:
    await page.goto("/signin")
    await page.get_by_label("Kunci API").fill(key)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("heading", name="Pengumuman", exact=True)).to_be_visible()


async def shot(page: Page, artifacts: Path, name: str) -> None:
    await page.screenshot(
        path=str(artifacts / f"{name}.png"), full_page=True, animations="disabled"
    )


async def submit_national(page: Page, title: str, **fields: str) -> None:
    await page.goto("/compose")
    await page.get_by_label("Judul").fill(title)
    await page.get_by_label("Teks", exact=True).fill(fields.get("body", "Isi pengumuman."))
    for label, name in (("Ringkasan untuk kanal pendek", "summary"), ("Tagar", "hashtags")):
        if name in fields:
            await page.get_by_label(label).fill(fields[name])
    await page.get_by_label("Seluruh negeri", exact=False).check()
    await page.get_by_role("button", name="Kirim untuk disiarkan").click()


async def test_sign_in_compose_national_and_watch_it_arrive_without_reload(
    page: Page, site: Site, artifacts: Path
) -> None:
    await page.goto("/")
    await expect(page).to_have_url(f"{site.url}/signin")
    await shot(page, artifacts, "01-signin-id-desktop")
    await sign_in(page, site.admin_key)
    assert site.admin_key not in await page.content()
    await page.goto("/compose")
    await page.get_by_label("Cari wilayah").fill("bantaeng")  # the picker's search
    await expect(page.get_by_label("Kabupaten Bantaeng")).to_be_visible()
    await expect(page.get_by_label("Aceh", exact=True)).to_be_hidden()
    await page.get_by_label("Cari wilayah").fill("")
    await shot(page, artifacts, "02-compose-id-desktop")

    title = f"Uji konsol {uuid.uuid4().hex[:6]}"
    await submit_national(page, title, summary="Ringkas.", hashtags="#GPR Kominfo")
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await page.evaluate("window.__notReloaded = true")
    progress = page.locator(".progress-line [data-field=percent]")
    await expect(progress).to_have_text("100", timeout=60_000)
    assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    await expect(page.locator(".tiles .tile.s5")).to_have_count(38)
    await expect(page.locator(".national.s5")).to_have_count(1)
    await expect(page.locator("[data-field=status]")).to_have_text("Selesai")
    await expect(page.locator(".counts [data-field=delivered]")).to_have_text("39")
    # the counts per kind fill in live too, kinds that had no row when the page loaded included
    web = page.locator("table.kinds tr[data-kind=web]")
    await expect(web.locator("[data-field=delivered]")).to_have_text("39")
    await expect(page.locator("table.kinds tr.empty")).to_have_count(0)
    await shot(page, artifacts, "03-delivery-complete-id-desktop")

    await page.get_by_label("Alasan (opsional)").fill("uji pembatalan")
    await page.get_by_role("button", name="Batalkan pengumuman").click()  # confirm() accepted
    await expect(page.get_by_role("status").first).to_contain_text("Dibatalkan")
    await expect(page.locator("[data-field=status]")).to_have_text("Dibatalkan")
    await expect(page.get_by_role("button", name="Batalkan pengumuman")).to_have_count(0)

    await page.goto("/announcements")
    row = page.locator("tr", has_text=title)
    await expect(row).to_be_visible()
    await shot(page, artifacts, "04-announcements-id-desktop")


async def test_channels_and_coverage_within_scope(
    page: Page, site: Site, artifacts: Path, browser: Browser
) -> None:
    await sign_in(page, site.admin_key)
    await page.goto("/channels")
    await expect(page.locator("tr[data-channel]")).to_have_count(39)
    await shot(page, artifacts, "05-channels-id-desktop")

    run = uuid.uuid4().hex[:6]
    await page.get_by_role("link", name="Tambah kanal").first.click()
    await page.get_by_label("Id kanal").fill(f"bantaeng-{run}")
    await page.get_by_label("Wilayah").select_option("73.03")
    await page.get_by_label("Jenis", exact=True).fill("web")
    await page.get_by_label("Nama", exact=True).fill(f"Diskominfo Bantaeng {run}")
    await page.get_by_label("Alamat tujuan").fill("ftp://bantaeng.example/hook")
    await page.get_by_role("button", name="Simpan kanal").click()
    await expect(page.locator("#e-endpoint")).to_contain_text("scheme")  # the API's detail
    await shot(page, artifacts, "06-channel-error-id-desktop")
    await page.get_by_label("Alamat tujuan").fill(f"{site.receiver.base}/browser/bantaeng")
    await page.get_by_role("button", name="Simpan kanal").click()
    await expect(page.get_by_role("status").first).to_contain_text("Kanal disimpan")
    await page.get_by_label("Aktif", exact=True).uncheck()
    await page.get_by_role("button", name="Simpan kanal").click()
    await page.goto("/channels?region=73.03&kind=web")
    await expect(page.locator(f"tr[data-channel='bantaeng-{run}']")).to_contain_text("Nonaktif")
    await page.goto(f"/channels/bantaeng-{run}")
    await page.get_by_role("button", name="Hapus kanal").click()
    await expect(page.get_by_role("status").first).to_contain_text("Kanal dihapus")

    await page.goto("/coverage")
    await expect(page.locator("table.grid tr[data-province]")).to_have_count(38)
    await shot(page, artifacts, "07-coverage-id-desktop")

    regional = await browser.new_context(base_url=site.url, viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        tab = await regional.new_page()
        await sign_in(tab, site.regional_key)
        await tab.goto("/coverage")  # metrics answers for the key's province only
        await expect(tab.locator(".counts dd").first).to_have_text("1 / 25")
        await expect(tab.locator("table.grid tr[data-province]")).to_have_count(1)
        await shot(tab, artifacts, "08-coverage-regional-key")
        # the self-service registry: a province key keeps its own regions' channels
        await expect(tab.get_by_role("link", name="Kanal", exact=True)).to_have_count(1)
        response = await tab.goto("/channels")
        assert response is not None
        assert response.status == 200
        regions = await tab.locator("tr[data-channel] td:nth-child(2) small").all_inner_texts()
        assert regions, "the province's own channels are listed"
        assert all(r == "73" or r.startswith("73.") for r in regions), regions
        await shot(tab, artifacts, "08-channels-regional-key")
    finally:
        await regional.close()


async def test_xss_in_every_text_field_is_shown_as_text(
    page: Page, site: Site, artifacts: Path
) -> None:
    await sign_in(page, site.admin_key)
    # Refused by ingest (hashtags and link are checked): the form comes back with the values.
    await page.goto("/compose")
    for label in ("Judul", "Ringkasan untuk kanal pendek", "Tautan", "Tagar", "Tag kanal"):
        await page.get_by_label(label, exact=True).fill(XSS)
    await page.get_by_label("Teks", exact=True).fill(XSS)
    await page.get_by_label("Seluruh negeri", exact=False).check()
    await page.get_by_role("button", name="Kirim untuk disiarkan").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await expect(page.get_by_label("Judul")).to_have_value(XSS)
    assert await page.locator("script:not([src])").count() == 0
    assert await page.locator("img[src=x]").count() == 0
    await shot(page, artifacts, "09-compose-refused-xss-id-desktop")
    # Accepted (title, body and summary are free text): shown as text everywhere.
    await submit_national(page, XSS, body=XSS, summary=XSS)
    await expect(page.get_by_role("heading", name=XSS)).to_be_visible()
    await page.get_by_text("Teks pengumuman").click()
    await expect(page.locator(".content .body")).to_have_text(XSS)
    await page.goto("/announcements")
    await expect(page.get_by_role("link", name=XSS).first).to_be_visible()
    assert await page.locator("script:not([src])").count() == 0
    assert await page.locator("img[src=x]").count() == 0
    # Every text field of the channel form: refused by the router, shown back as text.
    await page.goto("/channels/new")
    for label in (
        "Id kanal",
        "Jenis",
        "Nama",
        "Alamat tujuan",
        "Tag",
        "Unggahan per menit paling banyak",
        "Nama rahasia penanda tangan",
    ):
        await page.get_by_label(label, exact=True).fill(XSS)
    await page.get_by_role("button", name="Simpan kanal").click()
    await expect(page.locator("#error-summary")).to_be_visible()
    await expect(page.get_by_label("Nama", exact=True)).to_have_value(XSS)
    await expect(page.locator("#error-summary")).to_be_focused()
    assert await page.locator("img[src=x]").count() == 0
    # A channel name the router accepts: shown as text in the registry.
    await page.goto("/channels/new")
    await page.get_by_label("Id kanal").fill(f"xss-{uuid.uuid4().hex[:6]}")
    await page.get_by_label("Jenis", exact=True).fill("web")
    await page.get_by_label("Nama", exact=True).fill(XSS)
    await page.get_by_label("Alamat tujuan").fill(f"{site.receiver.base}/browser/xss")
    await page.get_by_label("Aktif", exact=True).uncheck()
    await page.get_by_role("button", name="Simpan kanal").click()
    await expect(page.get_by_role("heading", name=XSS)).to_be_visible()
    await page.goto("/channels")
    await expect(page.get_by_role("link", name=XSS)).to_be_visible()
    # Filters echo what was typed.
    await page.goto("/announcements")
    await page.get_by_label("Judul atau id memuat").fill(XSS)
    await page.get_by_role("button", name="Saring").click()
    await expect(page.get_by_label("Judul atau id memuat")).to_have_value(XSS)
    await page.goto("/channels")
    await page.get_by_label("Kode wilayah").fill(XSS)
    await page.get_by_label("Jenis").fill(XSS)
    await page.get_by_role("button", name="Saring").click()
    await expect(page.get_by_label("Kode wilayah")).to_have_value(XSS)
    assert await page.locator("img[src=x]").count() == 0
    await page.goto("/signin?next=" + XSS)
    assert await page.locator("img[src=x]").count() == 0


async def test_csrf_refused_and_sign_out(page: Page, site: Site, context: BrowserContext) -> None:
    await sign_in(page, site.admin_key)
    before = len(site.receiver.requests)
    title = f"csrf-probe-{uuid.uuid4().hex[:6]}"
    for form in (
        {"title": title, "body": "x", "national": "on"},
        {"title": title, "body": "x", "national": "on", "csrf_token": "forged"},
    ):
        response = await context.request.post(f"{site.url}/compose", form=form)
        assert response.status == 403
        assert "Formulir ini tidak dapat dikirim" in await response.text()
    listing = await context.request.get(f"{site.url}/announcements")
    assert title not in await listing.text()
    assert len(site.receiver.requests) == before

    await page.get_by_role("button", name="Keluar").click()
    await expect(page).to_have_url(f"{site.url}/signin")
    await expect(page.get_by_role("status").first).to_contain_text("Anda sudah keluar")
    await page.goto("/announcements")
    await expect(page).to_have_url(f"{site.url}/signin?next=/announcements")
    cookies = await context.cookies()
    session = next(c for c in cookies if c["name"] == "siaran_console")
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"


async def test_english_and_phone_width(browser: Browser, site: Site, artifacts: Path) -> None:
    await announcement_id(site)
    context = await browser.new_context(base_url=site.url, viewport=PHONE)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await sign_in(page, site.admin_key)
        await page.get_by_label("Bahasa").select_option("en")
        await page.get_by_label("Zona waktu").select_option("WITA")
        await page.get_by_role("button", name="Terapkan").click()
        await expect(page.get_by_role("heading", name="Announcements", exact=True)).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.locator("tbody tr").first).to_contain_text("WITA")
        await shot(page, artifacts, "10-announcements-en-phone")
        await page.locator("tbody tr a").first.click()
        await expect(page.locator(".tiles")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the delivery page scrolls sideways ({width}px)"
        await shot(page, artifacts, "11-delivery-en-phone")
        await page.goto("/compose")
        await shot(page, artifacts, "12-compose-en-phone")
        await page.goto("/coverage")
        await shot(page, artifacts, "13-coverage-en-phone")
        await page.goto("/channels")
        await shot(page, artifacts, "14-channels-en-phone")
        page2 = await context.new_page()
        await page2.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        await page2.goto("/announcements")
        await shot(page2, artifacts, "15-announcements-en-desktop")
    finally:
        await context.close()


async def test_security_headers_on_pages(context: BrowserContext, site: Site) -> None:
    response = await context.request.get(f"{site.url}/signin")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


async def test_the_key_is_in_no_log_url_or_page(page: Page, site: Site) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    await sign_in(page, site.admin_key)
    for path in ("/announcements", "/compose", "/channels", "/coverage"):
        await page.goto(path)
        assert site.admin_key not in await page.content()
    assert not [u for u in urls if site.admin_key in u]
    log = site.stack.log.read_text(errors="replace")
    assert "  console | " in log  # the console process writes its lines there too
    assert site.admin_key not in log
    assert site.regional_key not in log


async def test_the_list_says_when_new_announcements_arrive(page: Page, site: Site) -> None:
    await announcement_id(site)
    await sign_in(page, site.admin_key)
    await page.goto("/announcements")
    note = page.get_by_role("link", name="Ada pengumuman baru: tampilkan")
    await expect(note).to_be_hidden()
    newer = await announcement_id(site)
    await expect(note).to_be_visible(timeout=15_000)
    await note.click()
    await expect(page.locator(f"tr[data-id='{newer}']")).to_be_visible()
