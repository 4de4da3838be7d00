"""The live stream: a report event when what the page shows changes, an end on sign-out."""

from __future__ import annotations

import json

from services.console.tests.conftest import Browser
from services.console.tests.fakes import FakeApis, report


def events(body: str) -> list[tuple[str, object]]:
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


async def test_delivery_stream_sends_each_change_once(browser: Browser, apis: FakeApis) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "status": "accepted",
        "accepted_at": "2026-12-01T01:00:00+00:00",
    }
    apis.reports["a1"] = report("a1", delivered=4, planned=4)
    await browser.sign_in()
    # The stream ends after SIARAN_CONSOLE_LIVE_MAX_SECONDS (0.2 s in these tests).
    response = await browser.client.get("/announcements/a1/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    sent = events(response.text)
    assert len(sent) == 1  # polled many times, unchanged: sent once
    name, data = sent[0]
    assert name == "report"
    assert isinstance(data, dict)
    assert data["percent"] == 100
    assert data["provinces"]["73"]["step"] == "s5"


async def test_list_stream_and_not_in_ledger_yet(browser: Browser, apis: FakeApis) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "status": "accepted",
        "title": "T",
        "accepted_at": "2026-12-01T01:00:00+00:00",
    }
    await browser.sign_in()
    sent = events((await browser.client.get("/events/announcements")).text)
    assert sent[0][0] == "list"
    assert sent[0][1] == [
        {
            "id": "a1",
            "planned": 0,
            "delivered": 0,
            "failed": 0,
            "pending": 0,
            "percent": 0,
            "state": "waiting",
        }
    ]
    waiting = events((await browser.client.get("/announcements/a1/events")).text)
    assert waiting[0][1]["planned"] == 0  # type: ignore[index]


async def test_stream_needs_a_session(browser: Browser) -> None:
    response = await browser.client.get("/announcements/a1/events")
    assert response.status_code == 303


async def test_stream_ends_when_the_session_ends(browser: Browser, apis: FakeApis) -> None:
    apis.announcements["a1"] = {
        "id": "a1",
        "status": "accepted",
        "accepted_at": "2026-12-01T01:00:00Z",
    }
    apis.reports["a1"] = report("a1", delivered=1, planned=4)
    await browser.sign_in()
    token = browser.client.cookies["siaran_console"]
    sessions = browser.app.state.console.sessions
    apis.on_report = lambda: sessions.end(token)  # signed out elsewhere after the first read
    sent = events((await browser.client.get("/announcements/a1/events")).text)
    assert [name for name, _ in sent] == ["report", "end"]
    assert sent[1][1] == {"reason": "signed_out"}
