"""What people see of a dead letter: credentials cut out by shape, the rest as it was."""

from __future__ import annotations

import json

import pytest
from siaran_metrics.dead_letters_preview import PREVIEW_CHARS, REDACTED, preview, shown_headers

KEY = "siaran_0123456789ab_Zm9vYmFyYmF6cXV4cXV1eGNvcmdl"


@pytest.mark.parametrize(
    ("body", "secret"),
    [
        (json.dumps({"title": "T", "api_key": "plain-value-1"}), "plain-value-1"),
        (json.dumps({"nested": [{"Authorization": "Bearer abcdefghij"}]}), "abcdefghij"),
        (json.dumps({"body": f"use {KEY} here"}), KEY),
        (json.dumps({"link": "https://x.go.id/a?access_token=tok123456&id=4"}), "tok123456"),
        (json.dumps({"endpoint": "https://user:pa55word@hook.example/"}), "pa55word"),
        (f"not json: Bearer abcdefghijkl and {KEY}", "abcdefghijkl"),
        (f"not json: {KEY}", KEY),
    ],
)
def test_credentials_are_cut_out(body: str, secret: str) -> None:
    text, truncated = preview(body.encode())
    assert secret not in text
    assert REDACTED in text
    assert truncated is False


def test_ordinary_content_is_kept_and_long_bodies_are_cut_short() -> None:
    body = {"title": "Vaksinasi", "link": "https://x.go.id/a?id=4", "callback_secret": ""}
    text, _ = preview(json.dumps(body).encode())
    assert json.loads(text) == body
    text, truncated = preview(b"a" * (PREVIEW_CHARS + 10))
    assert truncated is True
    assert len(text) == PREVIEW_CHARS


def test_bytes_that_are_not_text_are_shown_printable() -> None:
    text, _ = preview(b"\x00\xff\x1b[31mred")
    assert text.isprintable()
    assert "red" in text


def test_credential_headers_are_left_out_and_values_redacted() -> None:
    headers = [("authorization", b"Bearer x"), ("x-api-key", b"k"), ("ce_type", b"t"),
               ("siaran-error", f"unauthorized: {KEY}".encode())]  # fmt: skip
    assert shown_headers(headers) == {"ce_type": "t", "siaran-error": f"unauthorized: {REDACTED}"}
