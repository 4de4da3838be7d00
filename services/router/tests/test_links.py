"""The link scan: the same links as the pattern it replaces, in linear time, so rendering a
body of the maximum size cannot hold the event loop (a 5,000-character run of ``a.`` held it
9 s under the backtracking pattern)."""

from __future__ import annotations

import pytest
import regex  # type: ignore[import-untyped,unused-ignore]
from hypothesis import given, settings
from hypothesis import strategies as st
from siaran_router.limits import LIMITS, limit_for, measure_with
from siaran_router.links import LINK_PATTERN, find_links
from siaran_router.render import render_with

#: ingest's limit on an announcement's body (services do not import each other).
BODY_MAX = 20_000

_PATTERN = regex.compile(LINK_PATTERN, regex.IGNORECASE)
_PIECES = [
    "http://", "https://", "HTTPS://", "httpſ://", "a", "Z", "ab", "go", "id", "com", "xn--p1ai",
    "kominfo", "1", "42", ".", "..", "-", ":", ":8080", ":123456", "/", "?", "#", "_", "~", "=",
    "&", "%", "+", "@", "$", "＃", "\u202a", " ", "\n", "\x1c", "é", "ı", "K", "ſ", "İ", "пример",
    "рф", "😀", "a" * 62, "b" * 64, "c" * 25,
]  # fmt: skip


def pattern_links(text: str) -> list[tuple[int, int, bool, str]]:
    return [
        (m.start(), m.end(), bool(m.group("scheme") or m.group("loose")), m.group("tld") or "")
        for m in _PATTERN.finditer(text)
    ]


def scanned_links(text: str) -> list[tuple[int, int, bool, str]]:
    return [(link.start, link.end, link.scheme, link.tld) for link in find_links(text)]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_the_scan_finds_what_the_pattern_finds(text: str) -> None:
    assert scanned_links(text) == pattern_links(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_the_scan_finds_what_the_pattern_finds_in_any_text(text: str) -> None:
    assert scanned_links(text) == pattern_links(text)


@pytest.mark.parametrize(
    "text",
    [
        "see https://kominfo.go.id/berita/1?x=2#top. and kominfo.go.id",
        "http://a.b.c.d.e.com:8080/path/..",
        "https://пример.рф/ ok",
        "mail@kominfo.go.id $a.com #b.com",
        "a.a.a.a.a.a.a.a.com",
        "a.a.a.a.a.a.a.a.1",
    ],
)
def test_the_scan_on_examples(text: str) -> None:
    assert scanned_links(text) == pattern_links(text)


WORST_CASES = {
    "a-dot runs": "a." * (BODY_MAX // 2),
    "dots": "." * BODY_MAX,
    "digits": "1" * BODY_MAX,
    "digit-dot runs": "1." * (BODY_MAX // 2),
    "hyphen runs": "-a" * (BODY_MAX // 2),
    "long labels": ("a" * 63 + ".") * (BODY_MAX // 64),
    "schemes": "https://a." * (BODY_MAX // 10),
    "paths": "a.co/" + "." * (BODY_MAX - 5),
    "unicode": "é" * BODY_MAX,
    "dotless i runs": "ı." * (BODY_MAX // 2),
    "emoji": "😀." * (BODY_MAX // 3),
}


@pytest.mark.parametrize("kind", [*LIMITS, "unknown"])
@pytest.mark.parametrize("case", WORST_CASES)
def test_worst_case_bodies_of_the_maximum_size_render_within_the_limit(
    kind: str, case: str
) -> None:
    limit = limit_for(kind)
    text = render_with(
        limit, title="Judul", body=WORST_CASES[case], summary=None, link=None, hashtags=["GPR"]
    )
    assert measure_with(limit, text) <= limit.max_chars
