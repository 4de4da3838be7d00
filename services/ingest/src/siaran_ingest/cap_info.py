"""A CAP 1.2 info block → the fields of the announcement it becomes (see cap.py for the
mapping), and its area geocodes → the announcement's target."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from siaran_ingest.cap_elements import NS, Errors, cap_datetime, enum, required, text

#: ``geocode/valueName`` values (compared case-insensitively) whose values are region codes.
REGION_VALUE_NAMES = frozenset({"kemendagri", "bps", "region", "kode_wilayah"})

_URGENCIES = {"immediate", "expected", "future", "past", "unknown"}
_SEVERITIES = {"extreme", "severe", "moderate", "minor", "unknown"}
_PROVINCE = re.compile(r"[0-9]{2}")
_REGENCY = re.compile(r"[0-9]{2}\.[0-9]{2}")
_NATIONAL = "ID"
_LINK = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
_REGION_HINT = (
    "expected 'ID' (national), a 2-digit province code such as '73' "
    "or a regency/city code such as '73.03'"
)


def choose_info(infos: list[Element]) -> int:
    """Index of the first Indonesian info block, else 0."""
    for index, info in enumerate(infos):
        language = (text(info, "language") or "").lower()
        if language == "id" or language.startswith("id-"):
            return index
    return 0


def _priority(urgency: str | None, severity: str | None) -> str:
    if urgency == "immediate" or severity == "extreme":
        return "urgent"
    if urgency == "expected" or severity == "severe":
        return "high"
    return "normal"


def info_fields(
    info: Element,
    path: str,
    is_region: Callable[[str], bool],
    errors: Errors,
) -> dict[str, Any]:
    category = required(info, "category", f"{path}.category", errors)
    event = required(info, "event", f"{path}.event", errors)
    urgency = enum(
        required(info, "urgency", f"{path}.urgency", errors), _URGENCIES, f"{path}.urgency"
    )
    severity = enum(
        required(info, "severity", f"{path}.severity", errors), _SEVERITIES, f"{path}.severity"
    )
    for checked in (urgency, severity):
        if isinstance(checked, tuple):
            errors.append(checked)
    headline = text(info, "headline")
    description = text(info, "description")
    instruction = text(info, "instruction")
    web = text(info, "web")
    if web is not None and not _LINK.fullmatch(web):
        errors.append((f"{path}.web", f"{web!r} is not an http or https URL"))
        web = None

    effective = cap_datetime(text(info, "effective"), f"{path}.effective", errors)
    cap_datetime(text(info, "onset"), f"{path}.onset", errors)  # checked, never a delay
    expires = cap_datetime(text(info, "expires"), f"{path}.expires", errors)
    publish_at = effective

    title = headline or event or ""
    body = "\n\n".join(part for part in (description, instruction) if part) or title
    return {
        "title": title,
        "body": body,
        "summary": headline,
        "link": web,
        "category": category.lower() if category else None,
        "priority": _priority(
            urgency if isinstance(urgency, str) else None,
            severity if isinstance(severity, str) else None,
        ),
        "hashtags": [],
        "target": _target(info, path, is_region, errors),
        "publish_at": publish_at.isoformat() if publish_at else None,
        "expires_at": expires.isoformat() if expires else None,
    }


def _target(
    info: Element,
    path: str,
    is_region: Callable[[str], bool],
    errors: Errors,
) -> dict[str, Any]:
    national = False
    provinces: list[str] = []
    regencies: list[str] = []
    found = False
    for area_index, area in enumerate(info.findall(NS + "area")):
        geocode_path = f"{path}.area[{area_index}].geocode"
        for geocode in area.findall(NS + "geocode"):
            value_name = (text(geocode, "valueName") or "").lower()
            if value_name not in REGION_VALUE_NAMES:
                continue
            found = True
            value = text(geocode, "value")
            if value is None:
                errors.append((geocode_path, "a region geocode needs a value"))
            elif value.upper() == _NATIONAL:
                national = True
            elif _PROVINCE.fullmatch(value) or _REGENCY.fullmatch(value):
                if not is_region(value):
                    errors.append((geocode_path, f"{value!r} is not an official region code"))
                    continue
                codes = provinces if len(value) == 2 else regencies
                if value not in codes:
                    codes.append(value)
            else:
                errors.append((geocode_path, f"{value!r} is not a region code: {_REGION_HINT}"))
    if not found:
        errors.append(
            (
                f"{path}.area",
                "no region geocode: add <geocode><valueName>KEMENDAGRI</valueName>"
                "<value>73.03</value></geocode> to an area (valueName KEMENDAGRI, BPS, region "
                f"or kode_wilayah; value {_REGION_HINT})",
            )
        )
    return {"national": national, "provinces": provinces, "regencies": regencies}
