"""Hostile and malformed requests get a clear 4xx, never a 5xx, and nothing is published."""

from __future__ import annotations

import pytest
from siaran_shared.events.topics import ANNOUNCEMENTS
from siaran_shared.testing import ServiceUnderTest

from tests.security.conftest import client, key_for

HEADERS = {"Content-Type": "application/json"}


async def post_raw(sut: ServiceUnderTest, body: bytes, **headers: str) -> tuple[int, dict]:
    async with client(sut, key_for(sut, "national", f"k{len(body)}")) as c:
        r = await c.post("/v1/announcements", content=body, headers={**HEADERS, **headers})
    return r.status_code, r.json()


async def test_oversized_body_is_413(ingest: ServiceUnderTest) -> None:
    body = b'{"title": "T", "body": "' + b"x" * (2 * 1024 * 1024) + b'", "target": {}}'
    status, error = await post_raw(ingest, body)
    assert status == 413
    assert error["error"]["code"] == "payload_too_large"
    assert not ingest.seen[ANNOUNCEMENTS]


async def test_deeply_nested_json_is_refused(ingest: ServiceUnderTest) -> None:
    nested = (
        b'{"title": "T", "body": "B", "target": ' + b'{"x": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    )
    status, error = await post_raw(ingest, nested)
    assert 400 <= status < 500
    assert error["error"]["message"]
    assert not ingest.seen[ANNOUNCEMENTS]


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "\xff\xfe", "body": "B", "target": {"national": true}}',
        b"\xc3\x28",
        b"",
        b"null",
        b"[]",
        b'"just a string"',
        b'{"title": "T", "body": "B", "target": {"national": true}',
    ],
)
async def test_malformed_bodies_get_4xx(ingest: ServiceUnderTest, body: bytes) -> None:
    status, error = await post_raw(ingest, body)
    assert 400 <= status < 500, (status, error)
    assert error["error"]["details"] or error["error"]["message"]
    assert not ingest.seen[ANNOUNCEMENTS]


async def test_wrong_content_type_is_refused(ingest: ServiceUnderTest) -> None:
    status, _ = await post_raw(ingest, b"title=T&body=B", **{"Content-Type": "text/plain"})
    assert 400 <= status < 500
