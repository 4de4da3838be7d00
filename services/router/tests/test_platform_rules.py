"""Per-platform text rules (issue 15), as the platforms document them: Instagram 2,200
characters and 30 hashtags, Threads 500 characters with emoji counted as UTF-8 bytes,
TikTok's video caption (2,200) and photo title (90) and description (4,000) in UTF-16 runes,
YouTube's title (100 characters) and description (5,000 UTF-8 bytes) without < or >, and
Facebook's post length."""

from __future__ import annotations

from typing import Any

import pytest
from siaran_router.limits import LIMITS, TIKTOK_PHOTO, limit_for, measure, measure_with, unit_of
from siaran_router.planning import render_texts
from siaran_router.render import ELLIPSIS, render
from siaran_shared.events import Announcement, Media, Target

WORDS = "Warga pesisir diminta waspada gelombang tinggi hingga empat meter. "


def announced(kind: str, *, title: str = "Siaga banjir", body: str = WORDS, **fields: Any) -> str:
    return render(kind, title=title, body=body, summary=None, link=fields.get("link"),
                  hashtags=fields.get("hashtags", ()))  # fmt: skip


def rendered(kinds: list[str], *, media: tuple[Media, ...] = (), **fields: Any) -> Any:
    a = Announcement(id="a1", target=Target(national=True), media=media,
                     **{"title": "Siaga banjir", "body": WORDS} | fields)  # fmt: skip
    return render_texts(a, kinds)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("kind", "limit", "unit"),
    [
        ("instagram", 2200, "UTF-16 code units"),
        ("threads", 500, "characters (emoji: their UTF-8 bytes)"),
        ("tiktok", 2200, "UTF-16 code units"),
        ("youtube", 5000, "UTF-8 bytes"),
        ("facebook", 63206, "UTF-16 code units"),
    ],
)
def test_each_platform_has_its_documented_limit_and_unit(kind: str, limit: int, unit: str) -> None:
    assert (LIMITS[kind].max_chars, unit_of(LIMITS[kind])) == (limit, unit)
    text = announced(kind, body=WORDS * 1200)
    assert measure(kind, text) <= limit
    assert measure(kind, text) > limit - 100  # the room is used, not wasted


def test_instagram_keeps_at_most_30_hashtags_counting_those_of_the_text() -> None:
    tags = [f"Tag{i}" for i in range(40)]
    text = announced("instagram", body=WORDS + "#Banjir #Makassar", hashtags=tags)
    appended = text.rsplit("\n\n", 1)[1].split(" ")
    assert appended == [f"#Tag{i}" for i in range(28)]  # 2 in the text + 28 = 30, whole
    assert text.count("#") == 30
    assert announced("x", hashtags=tags).count("#Tag") > 0  # other platforms: no count rule


def test_instagram_hashtags_of_the_text_beyond_30_stay_as_words() -> None:
    body = " ".join(f"#Kata{i}" for i in range(35))
    text = announced("instagram", body=body, hashtags=["Banjir"])
    assert text.count("#") == 30
    assert "#Kata29 Kata30" in text  # the 31st keeps its word, loses its '#'
    assert "#Banjir" not in text


def test_threads_counts_emoji_as_their_utf8_bytes() -> None:
    assert measure("threads", "Banjir") == 6
    assert measure("threads", "🌊") == 4
    assert measure("threads", "👍🏽") == 8  # base and skin tone
    assert measure("threads", "☀️") == 6  # U+2600 and variation selector 16: 3 bytes each
    text = announced("threads", body="🌊 " * 400)
    assert measure("threads", text) <= 500
    assert text.count("🌊") < 125  # 500 characters would have held more than twice as many


def test_tiktok_video_posts_take_a_2200_rune_caption() -> None:
    video = (Media(url="https://cdn.go.id/v.mp4", type="video"),)
    assert limit_for("tiktok", ["video", "image"]) is LIMITS["tiktok"]
    title, text = rendered(["tiktok"], media=video, body=WORDS * 100, title="T" * 150)["tiktok"]
    assert utf16(text) <= 2200
    assert title == "T" * 150  # a video post has no separate title: the caption is the title


def test_tiktok_photo_posts_take_a_90_rune_title_and_a_4000_rune_description() -> None:
    photo = (Media(url="https://cdn.go.id/p.jpg", type="image"),)
    assert limit_for("tiktok", ["image"]) is TIKTOK_PHOTO
    long_title = "Peringatan dini gelombang tinggi di perairan selatan Sulawesi 😀 " * 3
    title, text = rendered(["tiktok"], media=photo, body=WORDS * 100, title=long_title)["tiktok"]
    assert 3000 < utf16(text) <= 4000
    assert utf16(title) <= 90
    assert title.endswith(ELLIPSIS)
    assert long_title.startswith(title.removesuffix(ELLIPSIS) + " ")  # cut at a word


def test_youtube_description_is_limited_in_utf8_bytes_not_characters() -> None:
    body = "津波警報が発表されました。" * 400  # 3 bytes a character
    text = announced("youtube", body=body)
    assert len(text.encode()) <= 5000
    assert len(text) < 1700  # 5,000 characters would have been three times as long
    assert measure_with(LIMITS["youtube"], "é") == 2


def test_youtube_title_is_100_characters_cut_at_a_word_and_without_angle_brackets() -> None:
    long_title = (
        "Banjir <rob> di pesisir utara Jakarta, warga diminta mengungsi ke tempat aman " * 2
    )
    title, text = rendered(["youtube"], title=long_title, body="Air > 2 m, <segera> mengungsi.")[
        "youtube"
    ]
    assert utf16(title) <= 100
    assert title.endswith(ELLIPSIS)
    assert "<" not in title + text
    assert ">" not in title + text
    assert "‹rob›" in title
    assert "Air › 2 m, ‹segera› mengungsi." in text


def test_titles_of_other_platforms_are_sent_as_written() -> None:
    texts = rendered(["web", "facebook", "instagram"], title="Judul <asli>")
    assert {t.title for t in texts.values()} == {"Judul <asli>"}
