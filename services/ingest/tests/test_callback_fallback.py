"""The optional `callback_url`, `callback_secret` and `fallback` fields: validated at the
front door (a 422 naming the field), carried into the announcement on the topic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from siaran_shared.events import Fallback

from .conftest import Kit

Body = Callable[..., dict[str, Any]]
CALLBACK = "https://sistem.kemkes.go.id/siaran/selesai"


async def test_callback_and_fallback_travel_with_the_announcement(
    kit: Kit, make_announcement: Body
) -> None:
    body = make_announcement(
        "cb-1",
        callback_url=CALLBACK,
        callback_secret="KEMKES_CALLBACK",
        fallback={"kinds": ["sms", "whatsapp", "sms"]},
    )
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=body)
        assert r.status_code == 202, r.text
        shown = (await c.get("/v1/announcements/cb-1")).json()
    [event] = kit.accepted()
    assert event.announcement.callback_url == CALLBACK
    assert event.announcement.callback_secret == "KEMKES_CALLBACK"
    assert event.announcement.fallback == Fallback(kinds=("sms", "whatsapp"))
    assert shown["callback_url"] == CALLBACK
    assert shown["fallback"] == {"kinds": ["sms", "whatsapp"]}


async def test_without_them_the_announcement_has_none(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("cb-2"))
    assert r.status_code == 202, r.text
    [event] = kit.accepted()
    assert (event.announcement.callback_url, event.announcement.fallback) == (None, None)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"callback_url": "ftp://sistem.go.id/x"}, "callback_url", "URL scheme"),
        ({"callback_url": "http://169.254.169.254/latest"}, "callback_url", "refused"),
        ({"callback_url": "http://metadata.google.internal/x"}, "callback_url", "refused"),
        ({"callback_url": "http://0xa9fea9fe/x"}, "callback_url", "refused"),
        ({"callback_url": "https://user:hunter2@sistem.go.id/x"}, "callback_url", "credentials"),
        ({"callback_url": "https://sistem.go.id/" + "a" * 2040}, "callback_url", "longer"),
        ({"callback_url": CALLBACK, "callback_secret": "hunter2 value!"}, "callback_secret",
         "pattern"),
        ({"callback_secret": "KEMKES"}, "callback_secret", "callback_url too"),
        ({"fallback": {"kinds": []}}, "fallback.kinds", "at least 1"),
        ({"fallback": {}}, "fallback.kinds", "required"),
        ({"fallback": {"kinds": ["sms"], "extra": 1}}, "fallback.extra", "not permitted"),
        ({"fallback": ["sms"]}, "fallback", "object"),
        ({"fallback": {"kinds": ["  "]}}, "fallback.kinds[0]", "at least 1"),
    ],
)  # fmt: skip
async def test_bad_callback_or_fallback_is_a_422_naming_the_field(
    kit: Kit, make_announcement: Body, fields: dict[str, Any], field: str, says: str
) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("cb-3", **fields))
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert field in [d["field"] for d in details], details
    assert says in r.text
    assert "hunter2" not in r.text
    assert kit.accepted() == []
