"""Rendering per channel kind: limits, composition, truncation, grapheme safety."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import Any

import pytest
import regex  # type: ignore[import-untyped,unused-ignore]
from siaran_router.render import (
    DEFAULT_LIMIT,
    ELLIPSIS,
    LIMITS,
    UNLIMITED,
    limit_for,
    measure,
    render,
    render_with,
    sms_encoding,
)

TITLE = "Kominfo: jadilah humas profesional bermedsos"
SENTENCE = "Sebagai humas pemerintah yang profesional, kita harus bijak bermedia sosial."
BODY = "\n\n".join(" ".join([SENTENCE] * 5) for _ in range(40))  # about 15,000 characters
SUMMARY = "Humas pemerintah diajak bijak dan profesional bermedia sosial."
LINK = "https://example.go.id/berita/123"
TAGS = ["GPR", "#Kominfo"]


def graphemes(text: str) -> list[str]:
    clusters: list[str] = regex.findall(r"\X", text)
    return clusters


def announce(kind: str, **changes: Any) -> str:
    fields: dict[str, Any] = {
        "title": TITLE,
        "body": BODY,
        "summary": None,
        "link": LINK,
        "hashtags": TAGS,
    }
    fields.update(changes)
    return render(kind, **fields)


# ------------------------------------------------------------------------------ limits


@pytest.mark.parametrize(
    ("kind", "max_chars", "prefer_summary"),
    [
        ("x", 280, True),
        ("mastodon", 500, True),
        ("telegram", 4096, False),
        ("instagram", 2200, True),
        ("facebook", 63206, False),
        ("whatsapp", 1024, True),
        ("tiktok", 2200, True),
        ("youtube", 5000, False),
        ("sms", 160, True),
        ("email", UNLIMITED, False),
        ("web", UNLIMITED, False),
    ],
)
def test_limits_per_kind(kind: str, max_chars: int, prefer_summary: bool) -> None:
    assert LIMITS[kind].max_chars == max_chars
    assert LIMITS[kind].prefer_summary is prefer_summary
    assert limit_for(kind.upper()) is LIMITS[kind]


def test_unknown_kind_uses_the_conservative_default() -> None:
    assert limit_for("carrier-pigeon") is DEFAULT_LIMIT
    assert DEFAULT_LIMIT.max_chars == 1000
    assert DEFAULT_LIMIT.prefer_summary
    out = announce("carrier-pigeon")
    assert measure("carrier-pigeon", out) <= 1000
    assert out.endswith(f"…\n\n{LINK}")


# ------------------------------------------------------------------------------ measure


def test_measure_x_counts_urls_as_23_and_wide_characters_as_2() -> None:
    assert measure("x", "abc") == 3
    assert measure("x", LINK) == 23
    assert measure("x", "https://a.id") == 23  # short URLs count 23 as well
    assert measure("x", f"see {LINK}.") == 4 + 23 + 1  # trailing period is not in the URL
    assert measure("x", "kominfo.go.id") == 23  # X links bare domains
    assert measure("x", "日本語") == 6
    assert measure("x", "👍") == 2
    assert measure("x", "“quoted”") == 8  # general punctuation is light on X
    assert measure("x", "e\u0301") == 2  # NFC form "é" is 1, the written form 2: the larger


def test_measure_mastodon_counts_urls_with_a_scheme_as_23() -> None:
    assert measure("mastodon", f"{LINK} {LINK}") == 23 + 1 + 23
    assert measure("mastodon", "kominfo.go.id") == len("kominfo.go.id")
    assert measure("mastodon", "日本語") == 3


def test_measure_other_kinds_counts_utf16_code_units() -> None:
    assert measure("telegram", LINK) == len(LINK)
    assert measure("telegram", "👍") == 2
    assert measure("web", "日本語") == 3


def test_measure_sms_gsm7_and_ucs2() -> None:
    assert sms_encoding("Harga BBM turun @ 10:00!") == "gsm7"
    assert measure("sms", "a" * 160) == 160
    assert measure("sms", "€[]{}^~|\\") == 18  # extension characters take two septets
    assert sms_encoding("Jalan ş") == "ucs2"
    assert measure("sms", "ş" * 70) == 160  # 70 UCS-2 units fill the message
    assert measure("sms", "ş" * 71) > 160
    assert measure("sms", "ş" + "👍" * 34) <= 160  # 69 code units
    assert measure("sms", "ş" + "👍" * 35) > 160  # 71 code units


# ------------------------------------------------------------------------------ composing


def test_web_and_email_get_the_full_text() -> None:
    for kind in ("web", "email"):
        out = announce(kind, body="Paragraf satu.\n\n\n  Paragraf   dua.\nBaris dua.")
        assert out == (
            f"{TITLE}\n\nParagraf satu.\n\nParagraf dua.\nBaris dua.\n\n{LINK}\n\n#GPR #Kominfo"
        )


def test_x_prefers_the_summary_and_appends_link_and_hashtags() -> None:
    out = announce("x", summary=SUMMARY)
    assert out == f"{TITLE}\n{SUMMARY}\n{LINK}\n#GPR #Kominfo"
    assert measure("x", out) <= 280


def test_x_truncates_the_body_at_a_word_and_keeps_the_link() -> None:
    out = announce("x")
    assert measure("x", out) <= 280
    assert out.startswith(f"{TITLE}\nSebagai humas")
    assert out.endswith(f"…\n{LINK}")
    text = out.removesuffix(f"…\n{LINK}")
    assert " ".join(f"{TITLE}\n{BODY}".split()).replace(f"{TITLE} ", f"{TITLE}\n").startswith(text)
    assert not text.endswith((" ", ","))
    assert "#GPR" not in out  # the text is never shortened for hashtags
    assert "\n\n" not in out  # paragraphs collapse on X


def test_x_hashtags_are_added_only_while_they_fit() -> None:
    summary = "x" * (280 - len(TITLE) - 23 - 3 - len(" #GPR") - 1)
    out = announce("x", summary=summary, hashtags=["#GPR", "gpr", "Hari Kartini"])
    assert out == f"{TITLE}\n{summary}\n{LINK}\n#GPR"
    assert measure("x", out) <= 280


@pytest.mark.parametrize(
    "kind", ["mastodon", "telegram", "instagram", "whatsapp", "tiktok", "youtube"]
)
def test_long_bodies_are_truncated_to_the_limit(kind: str) -> None:
    limit = LIMITS[kind]
    out = announce(kind)
    assert measure(kind, out) <= limit.max_chars
    assert measure(kind, out) > limit.max_chars - 100  # the space is used
    assert out.endswith(f"…\n\n{LINK}")
    assert out.startswith(f"{TITLE}\n\nSebagai humas")


def test_telegram_keeps_paragraph_breaks() -> None:
    out = announce("telegram", body="Satu.\n\nDua.\r\n\r\nTiga")
    assert out == f"{TITLE}\n\nSatu.\n\nDua.\n\nTiga\n\n{LINK}\n\n#GPR #Kominfo"


def test_short_kinds_use_the_summary_long_kinds_the_body() -> None:
    assert SUMMARY in announce("instagram", summary=SUMMARY)
    assert SUMMARY not in announce("telegram", summary=SUMMARY)
    assert SUMMARY not in announce("youtube", summary=SUMMARY)
    assert announce("whatsapp", summary="   ").startswith(f"{TITLE}\n\nSebagai")  # blank summary


def test_facebook_truncates_only_beyond_63206() -> None:
    assert announce("facebook").endswith("#GPR #Kominfo")
    huge = " ".join(["kata"] * 20000)
    out = announce("facebook", body=huge)
    assert measure("facebook", out) <= 63206
    assert out.endswith(f"kata…\n\n{LINK}")


def test_sms_stays_gsm7_with_a_three_dot_ellipsis() -> None:
    out = announce("sms", link=None)
    assert sms_encoding(out) == "gsm7"
    assert out.endswith("...")
    assert 150 < measure("sms", out) <= 160


def test_sms_with_non_gsm_text_fits_70_ucs2_units() -> None:
    out = announce("sms", title="Peringatan dini 🌊 tsunami", link=None)
    assert sms_encoding(out) == "ucs2"
    assert len(out.encode("utf-16-le")) // 2 <= 70
    assert out.endswith(ELLIPSIS)


def test_the_link_is_dropped_when_it_does_not_fit_with_the_title() -> None:
    link = "https://example.go.id/" + "a" * 150
    out = announce("sms", link=link)
    assert link not in out
    assert measure("sms", out) <= 160
    assert out.startswith(TITLE)


def test_the_link_is_never_truncated_and_appears_once() -> None:
    out = announce("telegram", body=f"Baca {LINK} sekarang.")
    assert out.count(LINK) == 1
    out = announce("x", link="  https://example.go.id/a b  ")
    assert out.endswith("\nhttps://example.go.id/a%20b")


def test_control_characters_are_removed() -> None:
    out = announce("web", title="Judul\x00\x07 baru", body="Isi\u2028baris", link=None, hashtags=[])
    assert out == "Judul baru\n\nIsi\nbaris"


@pytest.mark.parametrize(
    "word",
    [
        "👨\u200d👩\u200d👧\u200d👦",  # ZWJ sequence
        "🇮🇩",  # flag: two regional indicators
        "a\u0301\u0323",  # base with two combining marks
        "👍🏽",  # emoji with skin tone modifier
        "நி",  # Tamil consonant with vowel sign
    ],
)
def test_a_single_long_word_is_cut_between_graphemes(word: str) -> None:
    title = word * 200
    out = announce("x", title=title, body="", link=None, hashtags=[])
    assert measure("x", out) <= 280
    assert out.endswith(ELLIPSIS)
    stem = graphemes(out.removesuffix(ELLIPSIS))
    assert stem, out
    assert all(cluster == unicodedata.normalize("NFC", word) for cluster in stem)


def test_a_prepend_character_does_not_swallow_the_ellipsis() -> None:
    # U+0600 (Arabic number sign) joins the following character into its grapheme cluster.
    title = "a\u0600\n" + "b" * 600
    out = render_with(
        replace(LIMITS["telegram"], max_chars=50),
        title="T",
        body=title,
        summary=None,
        link=None,
        hashtags=[],
    )
    assert graphemes(out)[-1] == ELLIPSIS


def test_empty_inputs() -> None:
    assert render("x", title="", body="", summary=None, link=None, hashtags=[]) == ""
    assert render("x", title=" ", body="", summary="", link=LINK, hashtags=["#"]) == LINK
