"""A screenshot of every page, in Bahasa Indonesia and English, at desktop and phone width,
saved to tests/browser/artifacts/pages/ (git-ignored) as NN-page-LOCALE-DEVICE.png. Each page
is asserted to be the page it should be (its heading) and, on a phone, not to scroll
sideways; the pictures themselves are for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, MARKS, PHONE, Site, announcement_id, watch
from tests.browser.people import dead_letter, submit
from tests.browser.test_console import shot, sign_in

pytestmark = MARKS
#: (file name, path, heading in Indonesian, heading in English); {a} is an announcement id
PAGES = (
    ("02-announcements", "/announcements", "Pengumuman", "Announcements"),
    ("03-compose", "/compose", "Tulis pengumuman", "Compose an announcement"),
    ("04-delivery", "/announcements/{a}", "Uji aksesibilitas", "Uji aksesibilitas"),
    ("05-approvals", "/approvals", "Persetujuan", "Approvals"),
    ("06-pending", "/announcements/{p}", "Menunggu tangkapan layar", "Menunggu tangkapan layar"),
    ("07-channels", "/channels", "Kanal", "Channels"),
    ("08-channel", "/channels/browser-73", "Diskominfo 73", "Diskominfo 73"),
    ("09-coverage", "/coverage", "Jangkauan", "Coverage"),
    ("10-keys", "/admin/keys", "Kunci API", "API keys"),
    ("11-dead-letters", "/admin/dead-letters", "Surat mati", "Dead letters"),
)


async def fill_compose(page: Page) -> None:
    """A compose form with its preview shown (the preview follows the typing)."""
    await page.locator("#f-title").fill("Vaksinasi gratis di puskesmas")
    await page.locator("#f-body").fill("Vaksinasi gratis untuk semua warga, Senin sampai Jumat.")
    await page.locator("#f-national").check()
    await expect(page.locator("#preview .preview-kind").first).to_be_visible()


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
async def test_every_page_in_both_languages_at_both_widths(
    browser: Browser, site: Site, artifacts: Path, locale: str, device: str
) -> None:
    viewport = DESKTOP if device == "desktop" else PHONE
    folder = artifacts / "pages"
    folder.mkdir(exist_ok=True)
    ids = {"a": await announcement_id(site),
           "p": await submit(site, site.writer_key, title="Menunggu tangkapan layar")}  # fmt: skip
    await dead_letter(site, "Pesan dengan kunci salah")
    context = await browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        watched = watch(page)
        await page.goto("/signin")
        if locale == "en":
            await page.get_by_label("Bahasa").select_option("en")
            await page.get_by_role("button", name="Terapkan").click()
        await shot(page, folder, f"01-signin-{locale}-{device}")
        if locale == "en":
            await page.get_by_label("API key").fill(site.admin_key)
            await page.get_by_role("button", name="Sign in").click()
        else:
            await sign_in(page, site.admin_key)
        for name, path, heading_id, heading_en in PAGES:
            await page.goto(path.format(**ids))
            heading = heading_id if locale == "id" else heading_en
            await expect(page.locator("h1")).to_contain_text(heading)
            if name == "03-compose":
                await fill_compose(page)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{path} scrolls sideways ({width}px)"
            await shot(page, folder, f"{name}-{locale}-{device}")
        watched.check()
    finally:
        await context.close()
