"""Languages and local time: gettext catalogues compiled from the .po files at start, dates
in WIB, WITA or WIT. Message ids are English; Bahasa Indonesia is the default language."""

from __future__ import annotations

import gettext
import io
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from siaran_shared.regions import ZONE_OFFSETS

from siaran_console.sessions import LOCALES

DOMAIN = "messages"
_PATTERNS = {"id": "d MMM y, HH.mm", "en": "d MMM y, HH:mm"}


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of a locale (English, the message ids, needs none)."""
    if locale not in LOCALES or locale == "en":
        return gettext.NullTranslations()
    po = resources.files("siaran_console").joinpath("locale", locale, "LC_MESSAGES", "messages.po")
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def compile_all() -> None:
    """Compile every catalogue now (at start), so a broken .po stops the start, not a page."""
    for locale in LOCALES:
        translations(locale)


def parse_time(value: str | datetime | None) -> datetime | None:
    """An ISO time from an API answer (naive means UTC), or None."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(value: str | datetime | None, zone: str, locale: str) -> str:
    """A time as people in `zone` read it, e.g. "1 Des 2026, 09.30 WITA"; "" for none."""
    moment = parse_time(value)
    if moment is None:
        return ""
    offset = ZONE_OFFSETS.get(zone) or ZONE_OFFSETS["WIB"]
    text = format_datetime(
        moment, _PATTERNS.get(locale, _PATTERNS["en"]), tzinfo=offset, locale=locale
    )
    return f"{text} {offset.tzname(None)}"
