"""The console's plain logic: sessions, the province grid, forms, redirects, catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from siaran_console import i18n
from siaran_console.forms import words, zoned
from siaran_console.security import local_path, same_origin
from siaran_console.sessions import Sessions
from siaran_console.tiles import GRID, SHORT, live_view, percent, step
from siaran_shared.regions import regions

PACKAGE = Path(i18n.__file__).parent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_end_after_their_lifetime_and_when_idle() -> None:
    clock = Clock()
    sessions = Sessions(lifetime=100, idle=30, max_sessions=10, clock=clock)
    token, _ = sessions.new()
    clock.now += 29
    assert sessions.get(token) is not None  # touched: idle time starts again
    clock.now += 29
    assert sessions.get(token) is not None
    clock.now += 31
    assert sessions.get(token) is None
    token, _ = sessions.new()
    for _ in range(4):
        clock.now += 25
        assert sessions.get(token) is not None
    clock.now += 25  # 125 s after creation, though never idle for long
    assert sessions.get(token) is None
    assert len(sessions) == 0


def test_sign_in_replaces_the_token_and_keeps_preferences() -> None:
    sessions = Sessions(lifetime=100, idle=100, max_sessions=10)
    old, anonymous = sessions.new()
    anonymous.prefer(locale="en", zone="WIT")
    new, session = sessions.sign_in(old, "key-value-42", manages_channels=True)
    assert sessions.get(old) is None
    assert sessions.get(new) is session
    assert (session.locale, session.zone, session.key, session.manages_channels) == (
        "en",
        "WIT",
        "key-value-42",
        True,
    )
    assert "key-value-42" not in repr(session)
    assert session.csrf not in repr(session)
    assert session.csrf != anonymous.csrf


def test_the_oldest_session_goes_beyond_the_limit() -> None:
    sessions = Sessions(lifetime=100, idle=100, max_sessions=2)
    first, _ = sessions.new()
    sessions.new()
    sessions.new()
    assert sessions.get(first) is None
    assert len(sessions) == 2


def test_csrf_comparison() -> None:
    _, session = Sessions(lifetime=1, idle=1, max_sessions=1).new()
    assert session.csrf_matches(session.csrf)
    assert not session.csrf_matches(None)
    assert not session.csrf_matches("")
    assert not session.csrf_matches(session.csrf + "x")


def test_the_grid_holds_every_province_once() -> None:
    codes = [code for row in GRID for code in row if code]
    assert sorted(codes) == sorted(regions().provinces)
    assert set(SHORT) == set(codes)
    assert len({len(row) for row in GRID}) == 1


@pytest.mark.parametrize(
    ("delivered", "planned", "expected_step", "expected_percent"),
    [
        (0, 0, "none", 0),
        (0, 4, "s0", 0),
        (1, 4, "s1", 25),
        (3, 4, "s3", 75),
        (999, 1000, "s4", 99),
        (4, 4, "s5", 100),
    ],
)
def test_steps_and_percent(
    delivered: int, planned: int, expected_step: str, expected_percent: int
) -> None:
    assert step(delivered, planned) == expected_step
    assert percent(delivered, planned) == expected_percent


def test_live_view_of_a_report() -> None:
    counts = {"delivered": 2, "failed": 1, "pending": 1, "total": 4}
    view = live_view(
        {
            "planned": 4,
            "delivered": 2,
            "failed": 1,
            "pending": 1,
            "by_province": {"73": counts, "ID": {"delivered": 1, "total": 1}},
            "by_kind": {"web": counts},
        }
    )
    assert view["percent"] == 50
    assert view["provinces"]["73"] == {
        "planned": 4,
        "delivered": 2,
        "failed": 1,
        "pending": 1,
        "percent": 50,
        "step": "s2",
    }
    assert view["national"]["step"] == "s5"
    assert live_view({})["national"]["step"] == "none"


def test_form_helpers() -> None:
    assert words("#GPR, Kominfo  #", strip="#") == ["GPR", "Kominfo"]
    assert zoned("2026-12-01T09:30", "WIT") == "2026-12-01T09:30:00+09:00"
    assert zoned("", "WIB") is None
    assert zoned("besok pagi", "WIB") == "besok pagi"  # passed on: ingest names the field


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/announcements?q=x", "/announcements?q=x"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
        ("/a\r\nSet-Cookie: x", "/"),
    ],
)
def test_redirects_stay_on_the_site(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def test_same_origin() -> None:
    assert same_origin(None, "console.test")
    assert same_origin("http://console.test", "console.test")
    assert not same_origin("https://evil.example", "console.test")
    assert not same_origin("null", "console.test")


def test_every_message_is_translated_to_indonesian() -> None:
    """The catalogue holds every message of the code and templates, and nothing stale."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    used = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(PACKAGE), method_map)
    }
    po = PACKAGE / "locale" / "id" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="id")
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog if m.id}
    assert used - translated.keys() == set(), "messages missing from the catalogue"
    assert translated.keys() - used == set(), "stale messages in the catalogue"
    assert all(s if isinstance(s, str) else all(s) for s in translated.values())


def test_the_catalogue_compiles_and_is_used() -> None:
    assert i18n.translations("id").gettext("Sign in") == "Masuk"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.local_time("2026-12-01T00:00:00Z", "WITA", "id") == "1 Des 2026, 08.00 WITA"
    assert i18n.local_time(None, "WIB", "id") == ""
