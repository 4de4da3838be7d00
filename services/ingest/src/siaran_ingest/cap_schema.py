"""The OpenAPI schema of a CAP 1.2 alert as ingest accepts it, in OpenAPI's XML terms (the
root element `alert` in the CAP namespace, one element per property), so that a client or a
property-based tester building a document from the schema builds one ingest accepts.

It describes the alerts ingest publishes as they are (msgType Alert, status Actual, scope
Public, region geocodes with official codes) and leaves out what may refuse a document for
reasons a schema cannot hold (an `expires` already past); every other CAP element is allowed
and ignored. Update and Cancel messages are described in the operation's text."""

from __future__ import annotations

from typing import Any

from siaran_shared.regions import NATIONAL, regions

from siaran_ingest.cap import CAP_NAMESPACE
from siaran_ingest.schema import ID_PATTERN

#: A CAP date-time with its UTC offset, on a date every month has.
_DATE_TIME = (
    r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"([+-](0[0-9]|1[0-2]):[0-5][0-9]|Z)"
)
_DATETIME = f"^{_DATE_TIME}$"
#: An optional date-time: an empty element is as good as none.
_MAYBE_DATETIME = rf"^(\s*|{_DATE_TIME})$"


#: Not blank: a character that is neither whitespace nor a control character.
_NON_BLANK = r"[^\s\x00-\x1f]"


def _text(limit: int, description: str) -> dict[str, Any]:
    """Text that is not blank (at most `limit` characters)."""
    schema: dict[str, Any] = {"type": "string", "pattern": _NON_BLANK}
    return schema | {"description": description, "maxLength": limit}


def _one_of(values: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": values, "description": description}


def _info_schema() -> dict[str, Any]:
    """An info block: what becomes the announcement, and the area it targets."""
    codes = [NATIONAL, *regions().by_code]
    geocode = {
        "type": "object",
        "required": ["valueName", "value"],
        "properties": {
            "valueName": _one_of(["KEMENDAGRI", "BPS", "region", "kode_wilayah"],
                                 "Names a geocode that carries a region code."),
            "value": _one_of(codes, "ID (national), a province or a regency/city code."),
        },
    }  # fmt: skip
    area = {
        "type": "object",
        "required": ["geocode"],
        "properties": {
            "areaDesc": {"type": "string", "description": "Not used."},
            "geocode": geocode,
        },
    }
    return {
        "type": "object",
        "required": ["category", "event", "urgency", "severity", "area"],
        "properties": {
            "language": {"type": "string", "description": "An Indonesian (id) block is chosen."},
            "category": _text(64, "Geo, Met, Safety, Health ...: the announcement's category."),
            "event": {"type": "string", "pattern": _NON_BLANK,
                      "description": "The title (at most 200 characters) when there is no "
                      "headline."},
            "urgency": _one_of(["Immediate", "Expected", "Future", "Past", "Unknown"],
                               "Immediate (or severity Extreme) makes the announcement urgent."),
            "severity": _one_of(["Extreme", "Severe", "Moderate", "Minor", "Unknown"],
                                "Severe (or urgency Expected) makes it high priority."),
            "certainty": {"type": "string", "description": "Not used."},
            "headline": {"type": "string", "maxLength": 200,
                         "description": "The title and summary."},
            "description": {"type": "string", "description": "The body, before the "
                            "instruction (with it at most 20,000 characters)."},
            "instruction": {"type": "string", "description": "The body, after the description."},
            "effective": {"type": "string", "pattern": _MAYBE_DATETIME,
                          "description": "Hold publication until then (never onset)."},
            "onset": {"type": "string", "pattern": _MAYBE_DATETIME,
                      "description": "When the hazard begins; never delays publication."},
            "area": area,
        },
    }  # fmt: skip


def cap_alert_schema() -> dict[str, Any]:
    """The JSON schema (with OpenAPI `xml` keywords) of a CAP 1.2 alert ingest accepts."""
    return {
        "type": "object",
        "title": "CapAlert",
        "description": "A CAP 1.2 alert (OASIS). Elements not listed are allowed and ignored.",
        "xml": {"name": "alert", "namespace": CAP_NAMESPACE},
        "required": ["identifier", "sender", "sent", "status", "msgType", "scope", "info"],
        "properties": {
            "identifier": {"type": "string", "pattern": ID_PATTERN,
                           "description": "Becomes the announcement id."},
            "sender": {"type": "string", "pattern": r"^[^\s,<&\x00-\x1f]+$"},
            "sent": {"type": "string", "pattern": _DATETIME},
            "status": _one_of(["Actual"], "Exercise, System, Test and Draft are refused."),
            "msgType": _one_of(["Alert"], "Update and Cancel also need references."),
            "scope": _one_of(["Public"], "Restricted and Private are refused."),
            "info": _info_schema(),
        },
    }  # fmt: skip
