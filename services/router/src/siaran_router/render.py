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
      never shortened to make room for hashtags.
    * Truncation happens at a word boundary and ends with an ellipsis "…" that is counted;
      trailing spaces and dangling punctuation (``.,;:`` …) before it are dropped. When not even
      the first word fits, the cut falls at a grapheme-cluster boundary (``regex`` ``\\X``), so
      emoji ZWJ sequences, flags and base + combining marks are never split. SMS uses "..."
      when that keeps the message in GSM-7 (a "…" alone would force UCS-2 and 70 characters).
      When nothing but the ellipsis fits, the text is the ellipsis alone.

Counting (`measure`)
    * x: twitter-text v3 weights: code points in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F
      and U+2032-U+2037 count 1, every other code point (CJK, emoji, …) 2 (X counts a whole
      emoji sequence as 2, so this over-counts emoji: conservative). http(s) URLs count 23
      (t.co); bare domains such as ``kominfo.go.id`` count max(23, their own weight) because X
      may or may not link them. A URL whose top-level domain is not a known one counts
      max(23, its own length); any other run starting with ``http(s)://`` (an IDN host, no
      TLD) counts 23 plus its own length, as the platform may link a part of it. Known
      approximation: a bare IDN domain without scheme (``пример.рф``) counts as written.
      The larger of the counts of the text and of its NFC form is taken.
    * mastodon: http(s) URLs count 23 as on X (Mastodon's length validator); bare domains
      count as written (Mastodon does not link them); otherwise UTF-16 code units, never
      less than Mastodon's own count.
    * other unicode kinds: UTF-16 code units (never less than code points or graphemes).
    * sms: one single message. Text entirely in the GSM 03.38 basic set counts one per
      character and two per extension character (``€[]{}^~|\\`` and form feed), limit 160.
      Text with any other character is sent as UCS-2, where 70 UTF-16 code units fit. To keep
      one limit per kind, UCS-2 lengths are given in septet equivalents (both limits are
      the same 140-byte payload): ``ceil(units * 16 / 7)``, so 70 units measure 160 and 71
      units 163.
    * web, email: no limit (``max_chars`` is `UNLIMITED`); nothing is truncated or dropped.
    * Unknown kinds use `DEFAULT_LIMIT`: 1000 UTF-16 code units, summary preferred,
      paragraphs kept: conservative enough for any text channel we do not know yet.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote

import regex as _regex_untyped  # type: ignore[import-untyped,unused-ignore]

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

UNLIMITED = sys.maxsize
ELLIPSIS = "…"
_SMS_ELLIPSIS = "..."
_URL_WEIGHT = 23


@dataclass(frozen=True, slots=True)
class PlatformLimit:
    """How a platform counts and limits a post.

    ``max_chars`` is in the platform's own unit (see `measure`); ``counts_links_as`` is the
    length an http(s) URL counts as, or None when URLs count as written; ``keep_paragraphs``
    keeps paragraph and line breaks (False collapses each part to one line); ``x_weighting``
    counts code points with X's weights.
    """

    max_chars: int
    prefer_summary: bool
    counts_links_as: int | None
    encoding: Literal["unicode", "sms"]
    keep_paragraphs: bool = True
    x_weighting: bool = False


LIMITS: Mapping[str, PlatformLimit] = MappingProxyType(
    {
        "x": PlatformLimit(280, True, _URL_WEIGHT, "unicode", False, True),
        "mastodon": PlatformLimit(500, True, _URL_WEIGHT, "unicode"),
        "telegram": PlatformLimit(4096, False, None, "unicode"),
        "instagram": PlatformLimit(2200, True, None, "unicode"),
        "facebook": PlatformLimit(63206, False, None, "unicode"),
        "whatsapp": PlatformLimit(1024, True, None, "unicode"),
        "tiktok": PlatformLimit(2200, True, None, "unicode"),
        "youtube": PlatformLimit(5000, False, None, "unicode"),
        "sms": PlatformLimit(160, True, None, "sms", False),
        "email": PlatformLimit(UNLIMITED, False, None, "unicode"),
        "web": PlatformLimit(UNLIMITED, False, None, "unicode"),
    }
)

DEFAULT_LIMIT = PlatformLimit(1000, True, None, "unicode")


def limit_for(kind: str) -> PlatformLimit:
    """The limit of a channel kind; `DEFAULT_LIMIT` for a kind this module does not know."""
    return LIMITS.get(kind.strip().lower(), DEFAULT_LIMIT)


# --------------------------------------------------------------------------- counting

# GSM 03.38 basic character set (ESC, 0x1B, is not a character) and its extension table.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# twitter-text v3 (config "v3"): these ranges weigh 100, everything else 200, scale 100.
_X_HEAVY = _rx.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")

# Top-level domains for which a URL is surely linked (counted 23) by X and Mastodon. A URL
# under another TLD counts max(23, its own length), which is safe either way.
_TLD_NAMES = (
    "com net org gov edu mil int info biz name pro mobi asia tel travel aero coop museum jobs "
    "app dev io ai news online site website blog shop store tech cloud xyz top club live "
    "media world today digital global social link page ac ad ae af ag ai al am ao aq ar as at "
    "au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz ca cc cd cf cg ch ci "
    "ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm "
    "fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il "
    "im in iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt "
    "lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf "
    "ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw "
    "sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl "
    "tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw"
)
_KNOWN_TLDS = frozenset(_TLD_NAMES.split())

# A URL as twitter-text would link it, kept to a strict ASCII subset of what it accepts so
# that the part we count as 23 is never longer than the part X counts as 23: the rest of a
# longer URL is then counted as written, which can only over-count. Not preceded by what
# twitter-text refuses before a URL (letters, digits, @, $, #, directional marks). Any other
# run starting with a scheme (an IDN host, a host without a TLD, ...) is "loose": the
# platform may link part of it, so it counts 23 plus its written length, an upper bound.
_URL = _rx.compile(
    r"(?<![A-Za-z0-9@＠$#＃\u202a-\u202e])(?:"
    r"(?P<scheme>https?://)?"
    r"(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24}))"
    r"(?![A-Za-z0-9-])"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#](?:[A-Za-z0-9\-._~/?#=&%+]*[A-Za-z0-9=_#/-])?)?"
    r"|(?P<loose>https?://\S+))",
    _rx.IGNORECASE,
)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _x_weight(text: str) -> int:
    return len(text) + len(_X_HEAVY.findall(text))


def sms_encoding(text: str) -> Literal["gsm7", "ucs2"]:
    """The alphabet a single SMS with this text is sent in."""
    for char in text:
        if char not in _GSM7_BASIC and char not in _GSM7_EXTENSION:
            return "ucs2"
    return "gsm7"


def _sms_length(text: str) -> int:
    if sms_encoding(text) == "gsm7":
        return len(text) + sum(1 for char in text if char in _GSM7_EXTENSION)
    # 70 UCS-2 code units and 160 septets are the same 140-byte payload.
    return math.ceil(_utf16_units(text) * 16 / 7)


def _unicode_length(limit: PlatformLimit, text: str) -> int:
    count: Callable[[str], int] = _x_weight if limit.x_weighting else _utf16_units
    link_weight = limit.counts_links_as
    if link_weight is None:
        return count(text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        scheme = match.group("scheme") or match.group("loose")
        if not scheme and not limit.x_weighting:
            continue  # Mastodon links only URLs with a scheme
        total += count(text[position : match.start()])
        written = count(match.group())
        if match.group("loose"):
            total += link_weight + written
        elif scheme and match.group("tld").lower() in _KNOWN_TLDS:
            total += link_weight
        else:
            total += max(link_weight, written)
        position = match.end()
    return total + count(text[position:])


def measure_with(limit: PlatformLimit, text: str) -> int:
    """The length of ``text`` as a platform with this limit counts it."""
    if limit.encoding == "sms":
        return _sms_length(text)
    length = _unicode_length(limit, text)
    normalised = unicodedata.normalize("NFC", text)
    if normalised != text:  # platforms may count the NFC form, which can be longer
        length = max(length, _unicode_length(limit, normalised))
    return length


def measure(kind: str, text: str) -> int:
    """The length of ``text`` as the platform of ``kind`` counts it (see the module doc)."""
    return measure_with(limit_for(kind), text)


# --------------------------------------------------------------------------- normalising

_LINE_BREAKS = str.maketrans(
    {"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n"}
    | {"\x85": "\n", "\u2028": "\n", "\u2029": "\n\n"}
)
_BLANK_LINE = _rx.compile(r"\n[^\S\n]*\n\s*")
_PUNCTUATION_BEFORE_ELLIPSIS = frozenset(".,;:-–—(/[{&·•|")


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

    clean_title = _one_line(title)
    clean_summary = text_of(summary) if summary is not None else ""
    text = clean_summary if limit.prefer_summary and clean_summary else text_of(body)
    main = separator.join(part for part in (clean_title, text) if part)
    clean_link = _normalise_link(link)
    tags = _normalise_hashtags(hashtags)

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
