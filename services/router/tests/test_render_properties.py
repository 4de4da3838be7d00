"""Rendering for any text, link, hashtags and limit (hypothesis): the output fits, is cut
between graphemes, and keeps what it promises to keep."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

import regex  # type: ignore[import-untyped,unused-ignore]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_router.render import (
    ELLIPSIS,
    LIMITS,
    UNLIMITED,
    PlatformLimit,
    limit_for,
    measure,
    measure_with,
    render,
    render_with,
)

LINK = "https://example.go.id/berita/123"


def graphemes(text: str) -> list[str]:
    clusters: list[str] = regex.findall(r"\X", text)
    return clusters


# ------------------------------------------------------------------------------ properties

SPECIAL = [
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\u00a0",
    "\u2029",
    "\u200d",
    "\u0301",
    "\u0600",
    "\U0001f1ee",
    "\U0001f1e9",
    "👨",
    "👩",
    "🏽",
    "€",
    "…",
    ".",
    ",",
    "#",
    "日本",
    "ş",
    LINK,
    " https://a.id/x ",
    " kominfo.go.id ",
    "https://bü.de",
    "kata ",
    "panjang ",
]
pieces = st.one_of(st.characters(), st.sampled_from(SPECIAL), st.text(max_size=12))
texts = st.lists(pieces, max_size=60).map("".join)
long_texts = st.one_of(texts, st.lists(pieces, max_size=400).map("".join))
url_chars = "abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%"
clean_links = st.builds(
    lambda host, path: f"https://{host}.go.id/{path}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20),
    st.text(alphabet=url_chars, max_size=120),
)
links = st.one_of(st.none(), clean_links, texts)
tag_lists = st.lists(texts, max_size=6)
KINDS = [*sorted(LIMITS), "unknown-kind"]
limits = st.builds(
    PlatformLimit,
    max_chars=st.integers(min_value=8, max_value=400),
    prefer_summary=st.booleans(),
    counts_links_as=st.sampled_from([None, 23]),
    encoding=st.sampled_from(["unicode", "sms"]),
    keep_paragraphs=st.booleans(),
    x_weighting=st.booleans(),
)
any_limit = st.one_of(st.sampled_from(KINDS).map(limit_for), limits)
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def visible(text: str) -> bool:
    return any(
        not char.isspace() and unicodedata.category(char) not in ("Cc", "Cs") for char in text
    )


def unlimited(limit: PlatformLimit) -> PlatformLimit:
    return replace(limit, max_chars=UNLIMITED)


def ellipses(limit: PlatformLimit) -> Sequence[str]:
    return [ELLIPSIS, "..."] if limit.encoding == "sms" else [ELLIPSIS]


def is_grapheme_prefix(stem: str, full: str) -> bool:
    clusters = graphemes(stem)
    return full.startswith(stem) and graphemes(full)[: len(clusters)] == clusters


def starts_with_truncated(out: str, main: str, limit: PlatformLimit) -> bool:
    """``out`` is ``main`` whole, or a grapheme prefix of it, an ellipsis, then the tail."""
    separator = "\n\n" if limit.keep_paragraphs else "\n"
    if not main or out == main or out.startswith(main + separator):
        return True
    for ellipsis in ellipses(limit):
        start = out.find(ellipsis)
        while start != -1:
            rest = out[start + len(ellipsis) :]
            stem = out[:start]
            # the stem is whole clusters of the main text, the ellipsis clusters of its own
            if (
                (rest == "" or rest.startswith(separator))
                and is_grapheme_prefix(stem, main)
                and graphemes(stem + ellipsis) == graphemes(stem) + graphemes(ellipsis)
            ):
                return True
            start = out.find(ellipsis, start + 1)
    return False


@PROPERTY_SETTINGS
@given(
    limit=any_limit,
    title=texts,
    body=long_texts,
    summary=st.one_of(st.none(), texts),
    link=links,
    hashtags=tag_lists,
)
def test_output_fits_is_grapheme_safe_and_not_empty(
    limit: PlatformLimit,
    title: str,
    body: str,
    summary: str | None,
    link: str | None,
    hashtags: list[str],
) -> None:
    out = render_with(limit, title=title, body=body, summary=summary, link=link, hashtags=hashtags)
    assert measure_with(limit, out) <= limit.max_chars
    if visible(title):
        assert out
    main = render_with(
        unlimited(limit), title=title, body=body, summary=summary, link=None, hashtags=[]
    )
    assert starts_with_truncated(out, main, limit), (out, main)


@PROPERTY_SETTINGS
@given(
    kind=st.sampled_from(KINDS),
    title=texts,
    body=long_texts,
    summary=st.one_of(st.none(), texts),
    link=links,
    hashtags=tag_lists,
)
def test_every_kind_fits_its_limit(
    kind: str,
    title: str,
    body: str,
    summary: str | None,
    link: str | None,
    hashtags: list[str],
) -> None:
    out = render(kind, title=title, body=body, summary=summary, link=link, hashtags=hashtags)
    limit = limit_for(kind)
    assert measure(kind, out) <= limit.max_chars
    if visible(title):
        assert out
    if limit.max_chars == UNLIMITED:
        written = [title, body, summary or "", link or "", *hashtags]
        assert ELLIPSIS not in out or any(ELLIPSIS in part for part in written)


@PROPERTY_SETTINGS
@given(
    limit=any_limit,
    title=texts,
    body=long_texts,
    summary=st.one_of(st.none(), texts),
    link=clean_links,
    hashtags=tag_lists,
)
def test_the_link_is_kept_whenever_it_fits_with_the_title(
    limit: PlatformLimit,
    title: str,
    body: str,
    summary: str | None,
    link: str,
    hashtags: list[str],
) -> None:
    out = render_with(limit, title=title, body=body, summary=summary, link=link, hashtags=hashtags)
    clean_title = render_with(
        unlimited(limit), title=title, body="", summary=None, link=None, hashtags=[]
    )
    separator = "\n\n" if limit.keep_paragraphs else "\n"
    # a cut text ends in an ellipsis before the link's separator, also when the title is
    # empty ("...\nhttps://…"): room for both, or the link may go
    with_link = f"{clean_title}{separator}{link}"
    if measure_with(limit, with_link) <= limit.max_chars - 3:  # room for an ellipsis too
        assert link in out
    else:
        assert measure_with(limit, out) <= limit.max_chars
