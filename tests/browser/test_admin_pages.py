"""The admin pages in a real browser: create a key with its roles (shown once), sign in with
it, revoke it; dead letters with their reason and origin, replayed; both hidden from and
refused to other keys; XSS in their fields stays text."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import MARKS, Site
from tests.browser.people import dead_letter, person
from tests.browser.test_console import XSS, shot, sign_in

pytestmark = MARKS


async def test_a_key_is_shown_once_works_and_is_revoked(
    page: Page, site: Site, browser: Browser, artifacts: Path
) -> None:
    name = f"uji-{uuid.uuid4().hex[:6]}"
    await sign_in(page, site.admin_key)
    await page.get_by_role("link", name="Kunci", exact=True).click()
    await page.get_by_label("Nama", exact=True).fill(XSS)  # refused by ingest, shown as text
    await page.get_by_label("Cakupan", exact=True).fill("province:73")
    await page.get_by_role("button", name="Buat kunci").click()
    await expect(page.locator("#e-name")).to_be_visible()
    await expect(page.get_by_label("Nama", exact=True)).to_have_value(XSS)
    assert await page.locator("img[src=x]").count() == 0
    await page.get_by_label("Nama", exact=True).fill(name)
    await page.get_by_label("publish: langsung mengirim").uncheck()
    await page.get_by_label("draft: menunggu persetujuan").check()
    await page.get_by_role("button", name="Buat kunci").click()
    secret = (await page.locator("#new-key").inner_text()).strip()
    assert secret.startswith("siaran_")
    await expect(page.locator("tr", has_text=name)).to_contain_text("draft")
    await shot(page, artifacts, "25-key-created-id-desktop")

    async with person(browser, site, secret) as newcomer:  # a writer of Sulawesi Selatan
        for link in ("Persetujuan", "Kunci", "Surat mati"):
            await expect(newcomer.get_by_role("link", name=link, exact=True)).to_have_count(0)
        for path in ("/admin/keys", "/admin/dead-letters", "/approvals"):
            response = await newcomer.goto(path)
            assert response is not None
            assert response.status == 403, path

    await page.goto("/admin/keys")
    assert secret not in await page.content(), "the key is shown once only"
    row = page.locator("tr", has_text=name)
    await row.get_by_role("button", name="Cabut").click()  # confirm() is accepted
    await expect(page.get_by_role("status").first).to_contain_text("Kunci dicabut")
    await expect(page.locator("tr", has_text=name)).to_contain_text("dicabut")
    async with httpx.AsyncClient(base_url=site.stack.url("ingest")) as ingest:
        refused = await ingest.get("/v1/keys/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401


async def test_a_dead_letter_is_listed_with_its_reason_and_replayed(
    page: Page, site: Site, artifacts: Path
) -> None:
    key = await dead_letter(site, "Pesan dengan kunci salah", key=f"{uuid.uuid4().hex[:6]}{XSS}")
    await sign_in(page, site.admin_key)
    await page.get_by_role("link", name="Surat mati", exact=True).click()
    row = page.locator("tr[data-letter]", has_text=key)
    await expect(row).to_contain_text("siaran.inbound.v1")
    await expect(row.locator(".reason")).to_contain_text("invalid or revoked API key")
    assert await page.locator("img[src=x]").count() == 0
    await shot(page, artifacts, "26-dead-letters-id-desktop")
    letter = await row.get_attribute("data-letter")
    await row.get_by_role("button", name="Kirim ulang").click()
    await expect(page.get_by_role("status").first).to_contain_text("Dikirim ulang")
    # (refused again without its API key, it comes back as a new dead letter: another row)
    await expect(page.locator(f"tr[data-letter='{letter}']")).to_contain_text("dikirim ulang")
