"""Form fields into the APIs' JSON bodies. Nothing is validated here beyond shape: the APIs
validate, and their field details are shown next to the fields they name."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from siaran_shared.regions import ZONE_OFFSETS
from starlette.datastructures import FormData

PRIORITIES = ("normal", "high", "urgent")
COMPOSE_FIELDS = {
    "title",
    "body",
    "summary",
    "link",
    "hashtags",
    "priority",
    "national",
    "provinces",
    "regencies",
    "zones",
    "kinds",
    "tags",
    "publish_at",
    "publish_local_time",
    "expires_at",
    "target",
    "media",
    "fallback",
}
#: Pictures or videos a compose form offers (the API takes up to 10).
MEDIA_ROWS = 3
MEDIA_FIELDS = tuple(
    f"media_{part}_{row}" for row in range(1, MEDIA_ROWS + 1) for part in ("url", "type", "alt")
)
CHANNEL_FIELDS = {
    "id",
    "region",
    "kind",
    "name",
    "endpoint",
    "tags",
    "enabled",
    "rate_per_minute",
    "secret",
}
_WORDS = re.compile(r"[,\s]+")


def text(form: FormData, name: str) -> str:
    """A text field, trimmed ("" when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def words(value: str, *, strip: str = "") -> list[str]:
    """Comma- or space-separated words, each without the `strip` characters at its start."""
    return [w.lstrip(strip) for w in _WORDS.split(value) if w.lstrip(strip)]


def choices(form: FormData, name: str) -> list[str]:
    """Every checked value of a multiple-choice field, in order, once each."""
    values = [v for v in form.getlist(name) if isinstance(v, str) and v]
    return list(dict.fromkeys(values))


def zoned(local: str, zone: str) -> str | None:
    """A datetime-local value ("2026-12-01T09:30") in WIB/WITA/WIT as an ISO time; the
    unparseable text is passed on as it is, so the API names the field."""
    if not local:
        return None
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        return local
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZONE_OFFSETS.get(zone) or ZONE_OFFSETS["WIB"])
    return moment.isoformat()


def media_of(form: FormData) -> list[dict[str, str]]:
    """The media rows of the compose form that have a URL."""
    media = []
    for row in range(1, MEDIA_ROWS + 1):
        if url := text(form, f"media_url_{row}"):
            item = {"url": url, "type": text(form, f"media_type_{row}") or "image"}
            if alt := text(form, f"media_alt_{row}"):
                item["alt"] = alt
            media.append(item)
    return media


def announcement_body(form: FormData) -> dict[str, Any]:
    """The POST /v1/announcements body of the compose form."""
    zone = text(form, "schedule_zone")
    target: dict[str, Any] = {
        "national": form.get("national") == "on",
        "provinces": choices(form, "provinces"),
        "regencies": choices(form, "regencies"),
        "zones": choices(form, "zones"),
        "kinds": choices(form, "kinds"),
        "tags": words(text(form, "tags")),
    }
    body: dict[str, Any] = {
        "title": text(form, "title"),
        "body": text(form, "body"),
        "priority": text(form, "priority") or "normal",
        "hashtags": words(text(form, "hashtags"), strip="#"),
        "target": target,
    }
    fallback = choices(form, "fallback")
    optional = {
        "fallback": {"kinds": fallback} if fallback else None,
        "summary": text(form, "summary"),
        "link": text(form, "link"),
        "publish_at": zoned(text(form, "publish_at"), zone),
        "publish_local_time": text(form, "publish_local_time"),
        "expires_at": zoned(text(form, "expires_at"), zone),
        "media": media_of(form),
    }
    return body | {name: value for name, value in optional.items() if value}


_TARGET_KEYS = ("national", "provinces", "regencies", "zones", "kinds", "tags")
_CONTENT_KEYS = ("title", "body", "summary", "link", "hashtags", "media")
#: What a correction or a draft edit keeps of the announcement as it is (PUT replaces it).
_KEPT_KEYS = (
    "priority",
    "category",
    "publish_at",
    "publish_local_time",
    "expires_at",
    "callback_url",
    "callback_secret",
    "fallback",
    "media",
)


def preview_body(announcement: dict[str, Any]) -> dict[str, Any]:
    """The POST /v1/previews body of an announcement as ingest answers it."""
    target = announcement.get("target") or {}
    body = {k: announcement[k] for k in _CONTENT_KEYS if announcement.get(k)}
    return body | {"target": {k: target[k] for k in _TARGET_KEYS if k in target}}


def corrected_body(announcement: dict[str, Any], form: FormData) -> dict[str, Any]:
    """The PUT body of a correction: the announcement as it is, with the form's text."""
    kept = {k: announcement[k] for k in _KEPT_KEYS if announcement.get(k) is not None}
    target = announcement.get("target") or {}
    body: dict[str, Any] = kept | {
        "title": text(form, "title"),
        "body": text(form, "body"),
        "hashtags": words(text(form, "hashtags"), strip="#"),
        "target": {k: target[k] for k in _TARGET_KEYS if k in target},
    }
    for name in ("summary", "link"):
        if value := text(form, name):
            body[name] = value
    return body


def correction_values(announcement: dict[str, Any]) -> dict[str, Any]:
    """An announcement's text as the correction form's field values."""
    return {
        "title": announcement.get("title") or "",
        "body": announcement.get("body") or "",
        "summary": announcement.get("summary") or "",
        "link": announcement.get("link") or "",
        "hashtags": " ".join(f"#{t}" for t in announcement.get("hashtags") or []),
    }


def channel_body(form: FormData) -> dict[str, Any]:
    """The PUT /v1/channels/{id} body of the channel form."""
    rate = text(form, "rate_per_minute")
    body: dict[str, Any] = {
        "region": text(form, "region"),
        "kind": text(form, "kind"),
        "name": text(form, "name"),
        "endpoint": text(form, "endpoint"),
        "tags": words(text(form, "tags")),
        "enabled": form.get("enabled") == "on",
    }
    if rate:
        body["rate_per_minute"] = int(rate) if rate.isdigit() else rate
    if secret := text(form, "secret"):
        body["secret"] = secret
    return body


def channel_values(channel: dict[str, Any]) -> dict[str, Any]:
    """A channel from the API as the form's field values."""
    return {
        "id": channel.get("id", ""),
        "region": channel.get("region", ""),
        "kind": channel.get("kind", ""),
        "name": channel.get("name", ""),
        "endpoint": channel.get("endpoint", ""),
        "tags": ", ".join(channel.get("tags") or []),
        "enabled": bool(channel.get("enabled", True)),
        "rate_per_minute": channel.get("rate_per_minute") or "",
        "secret": channel.get("secret") or "",
    }
