"""The optional `media` field: at most 10 http(s) files, never at internal addresses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Kit

Body = Callable[..., dict[str, Any]]
PHOTO = {"url": "https://cdn.example.go.id/a.jpg", "type": "image", "alt": "Posko vaksinasi"}


async def test_media_travel_with_the_accepted_announcement(
    kit: Kit, make_announcement: Body
) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("m-1", media=[PHOTO]))
        assert r.status_code == 202, r.text
    [event] = kit.accepted()
    [media] = event.announcement.media
    assert (media.url, media.type, media.alt) == (PHOTO["url"], "image", "Posko vaksinasi")


@pytest.mark.parametrize(
    ("media", "says"),
    [
        ([{"url": "ftp://example.go.id/a.jpg", "type": "image"}], "url"),
        ([{"url": "http://169.254.169.254/latest", "type": "image"}], "refused"),
        ([{"url": "http://metadata.google.internal/x", "type": "video"}], "refused"),
        ([{"url": "https://example.go.id/a.gif", "type": "gif"}], "type"),
        ([PHOTO] * 11, "media"),
    ],
)
async def test_bad_media_is_a_422_naming_the_field(
    kit: Kit, make_announcement: Body, media: list[dict[str, str]], says: str
) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("m-2", media=media))
    assert r.status_code == 422, r.text
    assert "media" in r.text
    assert says in r.text
    assert kit.accepted() == []
