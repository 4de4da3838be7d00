"""Every page passes axe-core's automated checks (WCAG 2.x A and AA: labels, contrast,
landmarks, names of controls), in Indonesian at desktop width and in English on a phone.
axe.js comes from the axe-playwright-python wheel, injected by Playwright (not by the page,
whose CSP admits only the console's own script)."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.browser.conftest import DESKTOP, MARKS, PHONE, Site, announcement_id
from tests.browser.people import dead_letter, submit
from tests.browser.test_console import sign_in
from tests.browser.test_screenshots import fill_compose

pytestmark = MARKS
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


async def violations(page: Page, path: str) -> list[str]:
    await page.goto(path)
    return [f"{path}: {v}" for v in await axe_now(page)]


async def axe_now(page: Page) -> list[str]:
    """axe's WCAG A/AA violations of the page as it is now."""
    results = await Axe().run(page, options=WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]


async def test_the_check_finds_a_missing_label(browser: Browser) -> None:
    """axe runs for real here: an input without a label is found."""
    page = await browser.new_page()
    try:
        await page.set_content("<!doctype html><html lang=id><title>t</title><main><input>")
        results = await Axe().run(page, options=WCAG_AA)
        assert "label" in {v["id"] for v in results.response["violations"]}
    finally:
        await page.close()


@pytest.mark.parametrize(("locale", "viewport"), [("id", DESKTOP), ("en", PHONE)])
async def test_every_page_passes_axe(
    browser: Browser, site: Site, locale: str, viewport: dict[str, int]
) -> None:
    context = await browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        found = await violations(page, "/signin")
        await sign_in(page, site.admin_key)
        if locale == "en":
            await page.get_by_label("Bahasa").select_option("en")
            await page.get_by_role("button", name="Terapkan").click()
        announcement = await announcement_id(site)
        waiting = await submit(site, site.writer_key, title="Menunggu pemeriksaan aksesibilitas")
        await dead_letter(site, "Pesan dengan kunci salah")
        for path in (
            "/announcements",
            "/compose",
            f"/announcements/{announcement}",
            f"/announcements/{waiting}",
            "/approvals",
            "/channels",
            "/channels/new",
            "/channels/browser-73",
            "/coverage",
            "/admin/keys",
            "/admin/dead-letters",
        ):
            found += await violations(page, path)
        await page.goto("/compose")  # with the preview the typing brings
        await fill_compose(page)
        found += [f"/compose (preview): {v}" for v in await axe_now(page)]
        regional = await context.new_page()
        await context.clear_cookies()
        await sign_in(regional, site.regional_key)
        found += await violations(regional, "/coverage")
        found += await violations(regional, "/compose")
        assert found == [], "\n".join(found)
    finally:
        await context.close()
