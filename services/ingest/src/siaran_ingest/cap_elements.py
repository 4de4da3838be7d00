"""Reading the elements of a CAP 1.2 document: text, required fields, enumerated values and
date-times, each problem added to a list of (field path, message) details."""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree.ElementTree import Element

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
#: The namespace as ElementTree prefixes tag names with it.
NS = "{" + CAP_NAMESPACE + "}"

Errors = list[tuple[str, str]]

_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:[+-][0-9]{2}:[0-9]{2}|Z)"
)


def text(parent: Element, name: str) -> str | None:
    """Stripped text of the first child ``name``; None when absent or blank."""
    child = parent.find(NS + name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def required(parent: Element, name: str, path: str, errors: Errors) -> str | None:
    value = text(parent, name)
    if value is None:
        errors.append((path, "required"))
    return value


def enum(value: str | None, allowed: set[str], path: str) -> str | tuple[str, str] | None:
    """Lowercased value, or an error detail when not one of ``allowed``."""
    if value is None:
        return None
    if value.lower() not in allowed:
        expected = ", ".join(sorted(v.capitalize() for v in allowed))
        return (path, f"{value!r} is not a CAP value; expected one of {expected}")
    return value.lower()


def cap_datetime(value: str | None, path: str, errors: Errors) -> datetime | None:
    if value is None:
        return None
    parsed: datetime | None = None
    if _DATETIME.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.append(
            (
                path,
                f"{value!r} is not a CAP date-time; expected a time with its UTC offset, "
                "such as 2003-04-02T14:39:01-05:00",
            )
        )
        return None
    return parsed
