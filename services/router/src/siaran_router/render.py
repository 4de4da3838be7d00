"""Per-platform rendering: one announcement becomes the text a channel of one kind can post.

Pure functions, no I/O. `render` composes title, summary or body, link and hashtags for a
channel kind and guarantees ``measure(kind, out) <= LIMITS[kind].max_chars``.

Composition
    * Short platforms (``prefer_summary``) post title + summary when a summary is given, else
      title + body; long platforms post title + body.
    * The parts are joined with a blank line (``"\\n\\n"``) on platforms that keep paragraphs
      and with a single newline on ``x`` and ``sms``, whose texts are also collapsed to one
      line each (every whitespace run becomes one space). Elsewhere paragraphs (blank-line
      separated) and single line breaks are kept, and runs of spaces are collapsed.
    * Text is NFC-normalised; control characters other than whitespace and lone surrogates
      are removed. The title is always one line.
    * The link is appended after the text, unchanged except for surrounding whitespace
      (inner whitespace is percent-encoded); it is never truncated. It is kept when it fits
      together with the (whole) title, and the text is then truncated to make room for it;
      otherwise it is dropped. It is not appended a second time when the text already
      contains it.
    * Hashtags (``#Tag``, leading ``#`` and inner whitespace removed, duplicates dropped) are
      appended after the link, each only when it fits after the untruncated text; the text is
      never shortened to make room for hashtags. On a platform with a hashtag count
      (Instagram: 30) the hashtags the text already holds count, and the last ones beyond it
      are dropped whole.
    * Characters a platform refuses (YouTube: ``<`` and ``>``) become look-alikes (‹ ›).
    * Truncation happens at a word boundary and ends with an ellipsis "…" that is counted;
      trailing spaces and dangling punctuation (``.,;:`` …) before it are dropped. When not even
      the first word fits, the cut falls at a grapheme-cluster boundary (``regex`` ``\\X``), so
      emoji ZWJ sequences, flags and base + combining marks are never split. SMS uses "..."
      when that keeps the message in GSM-7 (a "…" alone would force UCS-2 and 70 characters).
      When nothing but the ellipsis fits, the text is the ellipsis alone.

Counting is `siaran_router.limits`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import regex as _regex_untyped  # type: ignore[import-untyped,unused-ignore]

from siaran_router.limits import (
    DEFAULT_LIMIT,
    LIMITS,
    UNLIMITED,
    PlatformLimit,
    limit_for,
    measure,
    measure_with,
    sms_encoding,
)

_rx: Any = _regex_untyped

__all__ = [
    "DEFAULT_LIMIT",
    "ELLIPSIS",
    "LIMITS",
    "UNLIMITED",
    "PlatformLimit",
    "limit_for",
    "measure",
    "measure_with",
    "render",
    "render_with",
    "sms_encoding",
]

ELLIPSIS = "…"
_SMS_ELLIPSIS = "..."


# --------------------------------------------------------------------------- normalising

_LINE_BREAKS = str.maketrans(
    {"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n"}
    | {"\x85": "\n", "\u2028": "\n", "\u2029": "\n\n"}
)
_BLANK_LINE = _rx.compile(r"\n[^\S\n]*\n\s*")
_PUNCTUATION_BEFORE_ELLIPSIS = frozenset(".,;:-–—(/[{&·•|")
_LOOKALIKES = {"<": "‹", ">": "›"}
_HASHTAG_IN_TEXT = _rx.compile(r"(?<![\w#&])[#＃]\w+")


def _clean(text: str) -> str:
    """NFC, without control characters (other than whitespace) and lone surrogates."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    return "".join(
        char for char in text if char.isspace() or unicodedata.category(char) not in ("Cc", "Cs")
    )


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _paragraphs(text: str) -> str:
    text = _clean(text).translate(_LINE_BREAKS).strip()
    paragraphs = []
    for paragraph in _BLANK_LINE.split(text):
        lines = [" ".join(line.split()) for line in paragraph.split("\n")]
        kept = "\n".join(line for line in lines if line)
        if kept:
            paragraphs.append(kept)
    return "\n\n".join(paragraphs)


def _normalise_link(link: str | None) -> str:
    if link is None:
        return ""
    link = _clean(link).strip()
    return "".join(quote(char, safe="") if char.isspace() else char for char in link)


def _normalise_hashtags(hashtags: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    tags = []
    for raw in hashtags:
        tag = "".join(_clean(raw).split()).lstrip("#＃")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append("#" + tag)
    return tags


# --------------------------------------------------------------------------- composing


def _graphemes(text: str) -> list[str]:
    clusters: list[str] = _rx.findall(r"\X", text)
    return clusters


def _last_index_where(count: int, fits: Callable[[int], bool]) -> int | None:
    """An i in range(count) with fits(i), the largest one when fits is monotone.

    Binary search that keeps fits(low) true, so the answer always fits even though the URL
    rules make the measure of a prefix not strictly monotone (a prefix of a URL may count
    less than 23); None when not even fits(0) holds.
    """
    if count == 0 or not fits(0):
        return None
    low, high = 0, count - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


class _Truncator:
    """Finds the longest grapheme prefix of a text that fits with an ellipsis and a tail."""

    def __init__(self, limit: PlatformLimit, text: str, separator: str) -> None:
        self.limit = limit
        self.separator = separator
        self.clusters = _graphemes(text)
        # offsets[i] is where cluster i starts; offsets[-1] == len(text).
        self.offsets = [0]
        for cluster in self.clusters:
            self.offsets.append(self.offsets[-1] + len(cluster))
        self.text = text
        # Word boundaries: a prefix may end before any whitespace cluster.
        self.word_ends = [
            index
            for index, cluster in enumerate(self.clusters)
            if index and cluster.isspace() and not self.clusters[index - 1].isspace()
        ]

    def _trimmed(self, end: int, ellipsis: str) -> str:
        """The prefix of ``end`` clusters, ready to be followed by the ellipsis."""
        clusters = self.clusters
        while end and (
            clusters[end - 1].isspace() or clusters[end - 1] in _PUNCTUATION_BEFORE_ELLIPSIS
        ):
            end -= 1
        # A prefix ending in a Prepend character would absorb the ellipsis into its cluster.
        while end and _graphemes(clusters[end - 1] + ellipsis)[0] != clusters[end - 1]:
            end -= 1
        return self.text[: self.offsets[end]]

    def _compose(self, end: int, ellipsis: str, tail: Sequence[str]) -> str:
        return self.separator.join([self._trimmed(end, ellipsis) + ellipsis, *tail])

    def fit(self, ellipsis: str, tail: Sequence[str]) -> str | None:
        def fits_text(text: str) -> bool:
            return measure_with(self.limit, text) <= self.limit.max_chars

        word_ends = self.word_ends
        best = _last_index_where(
            len(word_ends), lambda i: fits_text(self._compose(word_ends[i], ellipsis, tail))
        )
        if best is not None and self._trimmed(word_ends[best], ellipsis):
            return self._compose(word_ends[best], ellipsis, tail)
        # Not even the first word fits: cut at a grapheme boundary.
        ends = range(len(self.clusters))
        best = _last_index_where(
            len(ends), lambda i: fits_text(self._compose(ends[i], ellipsis, tail))
        )
        if best is None:
            return None
        return self._compose(ends[best], ellipsis, tail)


def _within_hashtag_count(count: int, text: str, tags: list[str]) -> tuple[str, list[str]]:
    """Text and hashtags within a hashtag count: the text's come first (beyond the count
    they stay as words without '#'), then the appended ones (the last dropped whole)."""
    seen = 0

    def keep(match: Any) -> str:
        nonlocal seen
        seen += 1
        return str(match.group()) if seen <= count else str(match.group())[1:]

    text = _HASHTAG_IN_TEXT.sub(keep, text)
    return text, tags[: max(0, count - seen)]


def render_with(
    limit: PlatformLimit,
    *,
    title: str,
    body: str,
    summary: str | None,
    link: str | None,
    hashtags: Sequence[str],
) -> str:
    """`render` for an explicit limit (for example a channel with its own, larger limit)."""
    keep_paragraphs = limit.keep_paragraphs
    separator = "\n\n" if keep_paragraphs else "\n"
    text_of: Callable[[str], str] = _paragraphs if keep_paragraphs else _one_line

    refused = {ord(c): _LOOKALIKES.get(c) for c in limit.forbidden}
    clean_title = _one_line(title).translate(refused)
    clean_summary = text_of(summary) if summary is not None else ""
    text = clean_summary if limit.prefer_summary and clean_summary else text_of(body)
    main = separator.join(part for part in (clean_title, text.translate(refused)) if part)
    clean_link = _normalise_link(link)
    tags = [tag.translate(refused) for tag in _normalise_hashtags(hashtags)]
    if limit.hashtags_max is not None:
        main, tags = _within_hashtag_count(limit.hashtags_max, main, tags)

    def fits(candidate: str) -> bool:
        return measure_with(limit, candidate) <= limit.max_chars

    def join(*parts: str) -> str:
        return separator.join(part for part in parts if part)

    if clean_link and clean_link in main:
        clean_link = ""  # already in the text (only counts when the text stays whole)
        if not fits(main):
            clean_link = _normalise_link(link)
    if clean_link and not fits(join(clean_title, clean_link)):
        clean_link = ""

    if fits(join(main, clean_link)):
        tag_line = ""
        for tag in tags:
            candidate = f"{tag_line} {tag}" if tag_line else tag
            if fits(join(main, clean_link, candidate)):
                tag_line = candidate
        return join(main, clean_link, tag_line)

    truncator = _Truncator(limit, main, separator)
    ellipses = [ELLIPSIS]
    if limit.encoding == "sms":
        ellipses.insert(0, _SMS_ELLIPSIS)
    tails = [[clean_link], []] if clean_link else [[]]
    for tail in tails:
        candidates = [
            (len(out) - len(ellipsis), out)
            for ellipsis in ellipses
            if (out := truncator.fit(ellipsis, tail)) is not None
        ]
        if candidates:
            return max(candidates, key=lambda pair: pair[0])[1]
    return ""  # a limit below the length of an ellipsis: nothing can be posted


def render(
    kind: str,
    *,
    title: str,
    body: str,
    summary: str | None,
    link: str | None,
    hashtags: Sequence[str],
) -> str:
    """The text to post on a channel of ``kind``; ``measure(kind, out) <= max_chars``.

    See the module documentation for the composition and counting rules.
    """
    return render_with(
        limit_for(kind), title=title, body=body, summary=summary, link=link, hashtags=hashtags
    )
