"""The editorial workflow in a real browser against the real stack: a writer composes with the
preview following her typing and submits; nothing goes out; an editor approves from the
approvals queue and watches it arrive; a failed channel is listed with its reason; a
correction goes out as revision 2; XSS in every new field stays text; every new form refuses
a missing CSRF token."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import MARKS, Site
from tests.browser.people import failing_channel, person, submit
from tests.browser.test_console import XSS, shot, sign_in
from tests.e2e.harness import Received, eventually

pytestmark = MARKS


async def test_writer_previews_as_she_types_and_an_editor_approves_from_the_queue(
    browser: Browser, site: Site, artifacts: Path
) -> None:
    title = f"Uji alur {uuid.uuid4().hex[:6]}"
    async with person(browser, site, site.writer_key) as writer:
        await expect(writer.get_by_role("link", name="Persetujuan")).to_have_count(0)
        await writer.goto("/compose")
        await writer.evaluate("window.__notReloaded = true")
        await writer.get_by_label("Judul").fill(title)
        await writer.get_by_label("Teks", exact=True).fill("Vaksinasi gratis di puskesmas.")
        await writer.get_by_label("Seluruh negeri", exact=False).check()
        await writer.get_by_label("web", exact=True).check()
        web = writer.locator("#preview .preview-kind[data-kind=web]")
        await expect(web.locator(".rendered")).to_contain_text(title)  # no button pressed
        await expect(writer.locator("#preview .preview-reach")).to_contain_text("39 kanal")
        await writer.get_by_label("Judul").fill(title + " (jam 09.00)")
        await expect(web.locator(".rendered")).to_contain_text("(jam 09.00)")
        assert await writer.evaluate("window.__notReloaded === true"), "the page was reloaded"
        await shot(writer, artifacts, "20-compose-live-preview-id-desktop")
        await writer.get_by_role("button", name="Ajukan untuk persetujuan").click()
        await expect(writer.locator("[data-field=workflow]")).to_have_text("Menunggu persetujuan")
        announcement = writer.url.rsplit("/", 1)[1]
    assert not [r for r in site.receiver.requests if title.encode() in r.body], "sent unapproved"

    own = await submit(site, site.editor_key, title=f"Milik editor {uuid.uuid4().hex[:6]}")
    async with person(browser, site, site.editor_key) as editor:
        await editor.get_by_role("link", name="Persetujuan").click()
        item = editor.locator(f"article.approval[data-id='{announcement}']")
        await expect(item.locator(".preview-kind[data-kind=web] .rendered")).to_contain_text(title)
        mine = editor.locator(f"article.approval[data-id='{own}']")
        await expect(mine).to_contain_text("menunggu pemberi persetujuan lain")
        await expect(mine.get_by_role("button", name="Setujui dan kirim")).to_have_count(0)
        await shot(editor, artifacts, "21-approvals-id-desktop")
        await item.get_by_role("button", name="Setujui dan kirim").click()
        await expect(editor.locator("[data-field=status]")).to_be_visible()
        await editor.evaluate("window.__notReloaded = true")
        progress = editor.locator(".progress-line [data-field=percent]")
        await expect(progress).to_have_text("100", timeout=60_000)
        assert await editor.evaluate("window.__notReloaded === true"), "the page was reloaded"
        await expect(editor.locator(".tiles .tile.s5")).to_have_count(38)
        await shot(editor, artifacts, "22-delivery-after-approval-id-desktop")


async def test_reject_needs_a_reason_and_the_writer_reads_it(browser: Browser, site: Site) -> None:
    announcement = await submit(site, site.writer_key, title="Untuk ditolak")
    async with person(browser, site, site.editor_key) as editor:
        await editor.goto(f"/announcements/{announcement}")
        await editor.get_by_role("button", name="Tolak").click()
        await expect(editor.locator(".field-error")).to_contain_text("Beri alasan")
        await editor.get_by_label("Alasan penolakan (wajib)").fill(XSS)
        await editor.get_by_role("button", name="Tolak").click()
        await expect(editor.get_by_role("status").first).to_contain_text("Ditolak")
    async with person(browser, site, site.writer_key) as writer:
        await writer.goto(f"/announcements/{announcement}")
        await expect(writer.locator("[data-field=workflow]")).to_have_text("Ditolak")
        await writer.get_by_text("Riwayat", exact=True).click()
        await expect(writer.locator(".history .reason")).to_have_text(XSS)
        assert await writer.locator("img[src=x]").count() == 0


async def test_a_failed_channel_is_listed_with_its_reason(
    page: Page, site: Site, artifacts: Path
) -> None:
    channel = await failing_channel(site, "/browser/failing-sms", 410)
    announcement = await submit(
        site,
        site.admin_key,
        title="Uji kanal gagal",
        target={"regencies": ["73.03"], "kinds": ["sms"]},
    )
    await sign_in(page, site.admin_key)
    await page.goto(f"/announcements/{announcement}")
    await expect(page.locator(".counts [data-field=failed]")).to_have_text("1", timeout=60_000)
    await page.reload()
    row = page.locator("section.failed tr", has_text=channel)
    await expect(row).to_contain_text("410")
    await expect(row.locator("td").last).not_to_have_text("0")  # attempts
    await shot(page, artifacts, "23-delivery-failed-channel-id-desktop")


async def test_a_correction_goes_out_as_revision_2(page: Page, site: Site, artifacts: Path) -> None:
    announcement = await submit(site, site.admin_key, title="Uji ralat",
                                target={"provinces": ["73"], "kinds": ["web"]})  # fmt: skip
    await sign_in(page, site.admin_key)
    await page.goto(f"/announcements/{announcement}")
    await expect(page.locator(".progress-line [data-field=percent]")).to_have_text(
        "100", timeout=60_000
    )
    await page.get_by_text("Tulis ralat").click()
    await page.get_by_label("Judul").fill("Uji ralat (diperbaiki)")
    await page.get_by_label("Teks", exact=True).fill(XSS)
    await shot(page, artifacts, "24-correction-id-desktop")
    await page.get_by_role("button", name="Terbitkan ralat").click()
    await expect(page.get_by_role("status").first).to_contain_text("revisi 2")
    await expect(page.locator("dd[data-field=revision]")).to_have_text("2")
    await expect(page.get_by_role("heading", name="Uji ralat (diperbaiki)")).to_be_visible()

    async with site.stack.client("ingest") as ingest:
        stored = (await ingest.get(f"/v1/announcements/{announcement}")).json()
    assert (stored["revision"], stored["title"], stored["body"]) == (
        2,
        "Uji ralat (diperbaiki)",
        XSS,
    )
    assert "correct" in [h["action"] for h in stored["history"]]

    def updated() -> list[Received]:
        return [r for r in site.receiver.at("/browser/73")
                if r.json.get("type") == "id.siaran.announcement.updated.v1"
                and r.json["data"].get("announcement_id") == announcement]  # fmt: skip

    [delivered] = await eventually(updated, within=60, what="revision 2 at the channel")
    assert delivered.json["data"]["revision"] == 2
    assert await page.locator("img[src=x]").count() == 0


async def test_xss_in_the_new_fields_stays_text(browser: Browser, site: Site) -> None:
    announcement = await submit(site, site.writer_key, title=XSS, body=XSS, summary=XSS)
    async with person(browser, site, site.editor_key) as editor:
        await editor.goto("/approvals")
        item = editor.locator(f"article.approval[data-id='{announcement}']")
        await expect(item.get_by_role("heading", name=XSS)).to_be_visible()
        await expect(item.locator(".preview-kind .rendered").first).to_contain_text(XSS)
        await editor.goto("/compose")
        await editor.get_by_label("Judul").fill(XSS)
        await editor.get_by_label("Teks", exact=True).fill(XSS)
        await editor.get_by_label("Seluruh negeri", exact=False).check()
        await expect(editor.locator("#preview .rendered").first).to_contain_text(XSS)
        assert await editor.locator("script:not([src])").count() == 0
        assert await editor.locator("img[src=x]").count() == 0


async def test_every_new_form_refuses_a_missing_or_forged_csrf_token(
    page: Page, site: Site, context: BrowserContext
) -> None:
    announcement = await submit(site, site.writer_key, title="CSRF")
    await sign_in(page, site.admin_key)
    for path, form in (
        (f"/approvals/{announcement}/approve", {}),
        (f"/approvals/{announcement}/reject", {"reason": "r"}),
        (f"/announcements/{announcement}/correct", {"title": "t", "body": "b"}),
        (f"/announcements/{announcement}/submit", {}),
        ("/compose/preview", {"title": "t", "body": "b", "national": "on"}),
        ("/compose", {"title": "t", "body": "b", "national": "on", "action": "draft"}),
        ("/admin/keys", {"name": "csrf", "scope": "national"}),
        ("/admin/keys/nokey/revoke", {}),
        ("/admin/dead-letters/noletter/replay", {}),
    ):
        for token in ({}, {"csrf_token": "forged"}):
            response = await context.request.post(f"{site.url}{path}", form=form | token)
            assert response.status == 403, path
            assert "Formulir ini tidak dapat dikirim" in await response.text()
    async with site.stack.client("ingest") as ingest:
        status = (await ingest.get(f"/v1/announcements/{announcement}")).json()["status"]
    assert status == "pending_approval"
