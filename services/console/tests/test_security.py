"""Sign-in, sessions, cookies, CSRF and headers, with the other services faked over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from siaran_console.app import create_app
from siaran_console.config import ConsoleSettings
from siaran_console.security import CONTENT_SECURITY_POLICY

from services.console.tests.conftest import Browser, settings
from services.console.tests.fakes import ADMIN_KEY, FakeApis


async def test_pages_behind_sign_in_redirect_to_it(browser: Browser) -> None:
    for path in ("/announcements", "/compose", "/channels", "/coverage", "/announcements/a1"):
        response = await browser.client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")


async def test_sign_in_sets_a_strict_http_only_cookie_and_never_shows_the_key(
    browser: Browser,
) -> None:
    first = (await browser.client.get("/signin")).cookies.get("siaran_console")
    response = await browser.sign_in()
    assert response.status_code == 303
    assert response.headers["location"] == "/announcements"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # local mode
    token = browser.client.cookies.get("siaran_console")
    assert token
    assert token != first
    assert ADMIN_KEY not in cookie
    page = await browser.client.get("/announcements")
    assert page.status_code == 200
    assert ADMIN_KEY not in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"


async def test_the_old_session_token_stops_working_after_sign_in(browser: Browser) -> None:
    await browser.client.get("/signin")
    before = browser.client.cookies["siaran_console"]
    await browser.sign_in()
    browser.client.cookies.set("siaran_console", before)
    assert (await browser.client.get("/announcements")).status_code == 303


async def test_a_refused_key_says_what_to_do(browser: Browser) -> None:
    response = await browser.sign_in("wrong-key")
    assert response.status_code == 401
    assert "Kunci API ini tidak diterima" in response.text
    assert "wrong-key" not in response.text


async def test_a_form_without_the_csrf_token_is_refused(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in()
    calls = len(apis.calls)
    for token in (None, "forged"):
        data = {"title": "t", "body": "b", "national": "on"}
        response = await browser.client.post(
            "/compose", data=data | ({"csrf_token": token} if token else {})
        )
        assert response.status_code == 403
        assert "Formulir ini tidak dapat dikirim" in response.text
    assert len(apis.calls) == calls  # nothing reached ingest
    signin = await browser.client.post("/signin", data={"api_key": ADMIN_KEY})
    assert signin.status_code == 403


async def test_a_form_from_another_origin_is_refused(browser: Browser) -> None:
    await browser.sign_in()
    token = await browser.csrf("/compose")
    response = await browser.client.post(
        "/compose",
        data={"csrf_token": token, "title": "t"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


async def test_sign_out_ends_the_session_on_the_server(browser: Browser) -> None:
    await browser.sign_in()
    token = browser.client.cookies["siaran_console"]
    response = await browser.post("/signout", {}, from_page="/announcements")
    assert response.headers["location"] == "/signin"
    browser.client.cookies.set("siaran_console", token)
    assert (await browser.client.get("/announcements")).status_code == 303


async def test_a_revoked_key_ends_the_session(browser: Browser, apis: FakeApis) -> None:
    await browser.sign_in()
    apis.revoked.add(ADMIN_KEY)
    response = await browser.client.get("/coverage")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert (await browser.client.get("/coverage")).status_code == 303


async def test_outside_local_mode_the_cookie_is_secure_and_host_bound(
    apis: FakeApis, tmp_path: Path
) -> None:
    app = create_app(settings(tmp_path, env="production"), transport=apis.transport())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as client:
        secure = Browser(client, app)
        response = await secure.sign_in()
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-siaran_console=")
        assert "Secure" in cookie
        assert "Path=/" in cookie
        assert "Strict-Transport-Security" in response.headers
        assert (await client.get("/announcements")).status_code == 200
    await app.state.console.backends.close()


def test_production_needs_the_service_urls(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SIARAN_CONSOLE_INGEST_URL"):
        ConsoleSettings(home=tmp_path, env="production")  # type: ignore[arg-type]
