"""How each platform counts and limits a post: `measure` and the limits per kind.

Pure functions, no I/O.

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
    * threads: characters, each emoji as its UTF-8 bytes (Threads' own rule); counted here
      as UTF-16 code units with every emoji code point (and joiner, selector, skin tone)
      weighing its UTF-8 length instead.
    * youtube: UTF-8 bytes (the Data API limits `snippet.description` to 5,000 bytes).
    * other unicode kinds: UTF-16 code units (never less than code points or graphemes;
      TikTok's "UTF-16 runes").
    * sms: one single message. Text entirely in the GSM 03.38 basic set counts one per
      character and two per extension character (``€[]{}^~|\\`` and form feed), limit 160.
      Text with any other character is sent as UCS-2, where 70 UTF-16 code units fit. To keep
      one limit per kind, UCS-2 lengths are given in septet equivalents (both limits are
      the same 140-byte payload): ``ceil(units * 16 / 7)``, so 70 units measure 160 and 71
      units 163.
    * web, email: no limit (``max_chars`` is `UNLIMITED`); nothing is truncated or dropped.
    * Titles, where a platform limits them (YouTube 100 characters, a TikTok photo post 90
      UTF-16 runes), are counted in UTF-16 code units.
    * Unknown kinds use `DEFAULT_LIMIT`: 1000 UTF-16 code units, summary preferred,
      paragraphs kept: conservative enough for any text channel we do not know yet.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import regex as _regex_untyped  # type: ignore[import-untyped,unused-ignore]

from siaran_router.links import find_links

_rx: Any = _regex_untyped

UNLIMITED = sys.maxsize
_URL_WEIGHT = 23


@dataclass(frozen=True, slots=True)
class PlatformLimit:
    """How a platform counts and limits a post.

    ``max_chars`` is in the platform's own unit (see `measure`); ``counts_links_as`` is the
    length an http(s) URL counts as, or None when URLs count as written; ``keep_paragraphs``
    keeps paragraph and line breaks (False collapses each part to one line); ``x_weighting``
    counts code points with X's weights; ``hashtags_max`` is how many hashtags a post may
    carry (None: no rule); ``title_max`` the length of a separate title in UTF-16 code units
    (None: the title is sent as written); ``forbidden`` characters the platform refuses.
    """

    max_chars: int
    prefer_summary: bool
    counts_links_as: int | None
    encoding: Literal["unicode", "sms", "utf8", "threads"]
    keep_paragraphs: bool = True
    x_weighting: bool = False
    hashtags_max: int | None = None
    title_max: int | None = None
    forbidden: str = ""


LIMITS: Mapping[str, PlatformLimit] = MappingProxyType(
    {
        "x": PlatformLimit(280, True, _URL_WEIGHT, "unicode", False, True),
        "mastodon": PlatformLimit(500, True, _URL_WEIGHT, "unicode"),
        "telegram": PlatformLimit(4096, False, None, "unicode"),
        # IG User Media `caption`: at most 2,200 characters and 30 hashtags
        "instagram": PlatformLimit(2200, True, None, "unicode", hashtags_max=30),
        # Threads: text posts up to 500 characters, emoji counted as their UTF-8 bytes
        "threads": PlatformLimit(500, True, None, "threads"),
        # the documented length of a Facebook post
        "facebook": PlatformLimit(63206, False, None, "unicode"),
        "whatsapp": PlatformLimit(1024, True, None, "unicode"),
        # TikTok video post: `post_info.title` is the caption, up to 2,200 UTF-16 runes
        "tiktok": PlatformLimit(2200, True, None, "unicode"),
        # YouTube videos.insert: `snippet.description` up to 5,000 bytes, `snippet.title` up
        # to 100 characters, neither may contain < or >
        "youtube": PlatformLimit(5000, False, None, "utf8", title_max=100, forbidden="<>"),
        "sms": PlatformLimit(160, True, None, "sms", False),
        "email": PlatformLimit(UNLIMITED, False, None, "unicode"),
        "web": PlatformLimit(UNLIMITED, False, None, "unicode"),
    }
)

DEFAULT_LIMIT = PlatformLimit(1000, True, None, "unicode")
#: TikTok photo post (`content/init`): `description` up to 4,000 UTF-16 runes, `title` 90.
TIKTOK_PHOTO = PlatformLimit(4000, True, None, "unicode", title_max=90)
_UNITS = {
    "sms": "GSM-7 septets",
    "utf8": "UTF-8 bytes",
    "threads": "characters (emoji: their UTF-8 bytes)",
}


def limit_for(kind: str, media: Iterable[str] = ()) -> PlatformLimit:
    """The limit of a channel kind for an announcement with media of these types
    (a TikTok post is a video post when there is a video, else a photo post);
    `DEFAULT_LIMIT` for a kind this module does not know."""
    kind = kind.strip().lower()
    types = set(media)
    if kind == "tiktok" and "image" in types and "video" not in types:
        return TIKTOK_PHOTO
    return LIMITS.get(kind, DEFAULT_LIMIT)


def unit_of(limit: PlatformLimit) -> str:
    """What `measure_with` counts for a platform with this limit, in words."""
    if limit.x_weighting:
        return "weighted characters"
    return _UNITS.get(limit.encoding, "UTF-16 code units")


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


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _x_weight(text: str) -> int:
    return len(text) + len(_X_HEAVY.findall(text))


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# Emoji code points and the ones that build emoji sequences (ZWJ, variation selectors, skin
# tones, tags, regional indicators); ASCII keycap bases (digits, # and *) are plain text.
_EMOJI = _rx.compile(r"[\p{Extended_Pictographic}\p{Emoji_Component}]")


def _threads_length(text: str) -> int:
    extra = sum(
        _utf8_bytes(char) - _utf16_units(char) for char in _EMOJI.findall(text) if char > "\x7f"
    )
    return _utf16_units(text) + extra


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


_COUNTS: Mapping[str, Callable[[str], int]] = {"utf8": _utf8_bytes, "threads": _threads_length}


def _unicode_length(limit: PlatformLimit, text: str) -> int:
    count = _x_weight if limit.x_weighting else _COUNTS.get(limit.encoding, _utf16_units)
    link_weight = limit.counts_links_as
    if link_weight is None:
        return count(text)
    total = 0
    position = 0
    for link in find_links(text):
        if not link.scheme and not limit.x_weighting:
            continue  # Mastodon links only URLs with a scheme
        total += count(text[position : link.start])
        written = count(text[link.start : link.end])
        if link.loose:
            total += link_weight + written
        elif link.scheme and link.tld.lower() in _KNOWN_TLDS:
            total += link_weight
        else:
            total += max(link_weight, written)
        position = link.end
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
