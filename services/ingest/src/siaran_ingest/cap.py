"""OASIS CAP 1.2 (Common Alerting Protocol) documents → Siaran announcements.

Alerting authorities (BMKG, BNPB, the health ministry ...) already emit CAP 1.2. This module
turns one CAP document into the JSON shape of ``POST /v1/announcements`` (see DESIGN.md), so
ingest can accept ``Content-Type: application/cap+xml`` and then validate, authorise and
publish the result exactly like a JSON submission. It is pure: no I/O, no broker, no region
data (the caller passes ``is_region``).

Parsing is hardened: documents larger than :data:`MAX_CAP_BYTES` are refused before parsing,
and :mod:`defusedxml` refuses any DTD, entity declaration or external reference, so entity
expansion bombs ("billion laughs") and external entities (``file:///etc/passwd``) are
rejected without being expanded or fetched.

Mapping and rules
-----------------
* ``msgType``: ``Alert`` → ``"new"``, ``Update`` → ``"update"`` (replaces the announcements in
  ``references``), ``Cancel`` → ``"cancel"``. ``Ack`` and ``Error`` are not announcements and
  are refused. ``Update`` and ``Cancel`` must have ``references``.
* ``references``: whitespace-separated ``sender,identifier,sent`` triples; the identifiers are
  the ids of the referenced announcements (duplicates dropped, order kept).
* Required alert fields: ``identifier``, ``sender``, ``sent``, ``status``, ``msgType``,
  ``scope``. Only ``status`` ``Actual`` is published (``Exercise``, ``System`` and ``Test``
  alerts are refused, so a drill never reaches the public; a ``Draft`` Alert is stored as a
  draft announcement, for an editor to finish and submit); only ``scope``
  ``Public`` is published (``Restricted`` and ``Private`` alerts are meant for a limited
  audience, and every Siaran channel is public).
* Enumerated values (status, msgType, scope, urgency, severity) are matched
  case-insensitively; an unknown value is an error.
* Date-times must carry a UTC offset, in CAP's form ``2003-04-02T14:39:01-05:00`` (``Z`` is
  also accepted); they become timezone-aware datetimes.
* ``info``: with several blocks, the first whose ``language`` is Indonesian (``id`` or
  ``id-*``) is used, else the first block. An ``Alert`` or ``Update`` needs one; a ``Cancel``
  may have none, and then ``announcement`` is only ``{"id": identifier}``.
* ``info`` → announcement: ``id`` = identifier; ``title`` = headline, else event; ``body`` =
  description, a blank line, instruction (whichever are present; the title when both are
  absent); ``summary`` = headline or ``None``; ``link`` = web (http/https only) or ``None``;
  ``category`` = the first category, lowercased (``Health`` → ``"health"``); ``priority``:
  urgency ``Immediate`` or severity ``Extreme`` → ``"urgent"``, urgency ``Expected`` or
  severity ``Severe`` → ``"high"``, else ``"normal"``; ``hashtags`` = ``[]``; ``publish_at`` =
  effective or ``None`` (never onset: onset is when the hazard begins, and a warning must go
  out before it, so only ``effective`` may hold an alert back); ``expires_at`` = expires or
  ``None``. Date-times in
  the announcement are ISO 8601 strings, so the dict is JSON-serialisable as is.
* Region targeting: every ``area/geocode`` of the chosen info block whose ``valueName`` is
  ``KEMENDAGRI``, ``BPS``, ``region`` or ``kode_wilayah`` (case-insensitive) names a region:
  ``ID`` is the whole nation, a 2-digit code (``73``) a province, ``NN.NN`` (``73.03``) a
  regency or city. Province and regency codes must satisfy ``is_region`` (``ID`` is not looked
  up). Other geocodes (SAME, FIPS, UGC ...) and polygons/circles are ignored; at least one
  region geocode is required.

Every problem found is reported at once, as ``(field path, message)`` details of a
:class:`CapError`, e.g. ``("alert.info[0].area[0].geocode", "'99.99' is not an official
region code")``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]

from siaran_ingest.cap_elements import (
    CAP_NAMESPACE,
    NS,
    Errors,
    cap_datetime,
    enum,
    required,
    text,
)
from siaran_ingest.cap_info import REGION_VALUE_NAMES, choose_info, info_fields

__all__ = [
    "CAP_NAMESPACE",
    "MAX_CAP_BYTES",
    "REGION_VALUE_NAMES",
    "CapAlert",
    "CapError",
    "CapTooLargeError",
    "parse_cap",
]

#: Largest CAP document accepted, in bytes (checked before parsing). Real alerts are a few KB;
#: 256 KiB leaves room for several languages and long area lists.
MAX_CAP_BYTES = 256 * 1024

_MSG_TYPES: dict[str, Literal["new", "update", "cancel"]] = {
    "alert": "new",
    "update": "update",
    "cancel": "cancel",
}
_STATUSES = {"actual", "exercise", "system", "test", "draft"}
_SCOPES = {"public", "restricted", "private"}


class CapError(ValueError):
    """A CAP document that cannot become an announcement.

    ``details`` holds one ``(field path, message)`` pair per problem, paths in the document's
    terms (``alert.info[0].area[0].geocode``), ready for the contract's 422 error body.
    Construct with ``CapError(path, message)`` or ``CapError([(path, message), ...])``.
    """

    details: Errors

    def __init__(self, details: str | Sequence[tuple[str, str]], message: str = "") -> None:
        if isinstance(details, str):
            self.details = [(details, message)]
        else:
            self.details = list(details)
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in self.details))


class CapTooLargeError(CapError):
    """The document exceeds the size limit (the HTTP layer answers 413)."""


@dataclass(frozen=True)
class CapAlert:
    """A parsed CAP alert: the message metadata and the announcement it becomes."""

    msg_type: Literal["new", "update", "cancel"]
    identifier: str
    sender: str
    sent: datetime
    #: Identifiers of the announcements this message updates or cancels.
    references: list[str] = field(default_factory=list)
    #: The ``POST /v1/announcements`` JSON body (for a Cancel without info: only ``id``).
    announcement: dict[str, Any] = field(default_factory=dict)


def parse_cap(
    data: bytes, *, is_region: Callable[[str], bool], max_bytes: int = MAX_CAP_BYTES
) -> CapAlert:
    """Parse a CAP 1.2 document into a :class:`CapAlert`; raise :class:`CapError` if unusable.

    ``is_region(code)`` tells whether a province or regency code is an official one.
    """
    root = _parse_xml(data, max_bytes)
    errors: Errors = []
    identifier, sender, sent = _header(root, errors)
    draft = _check_published(root, errors)
    msg_type = _msg_type(root, errors)
    if draft and msg_type in ("update", "cancel"):
        errors.append(("alert.status", "a Draft becomes a draft announcement: use msgType Alert"))
    references = _references(text(root, "references"), errors)
    if msg_type in ("update", "cancel") and text(root, "references") is None:
        errors.append(
            (
                "alert.references",
                f"a{'n Update' if msg_type == 'update' else ' Cancel'} must reference the "
                "announcement it applies to (sender,identifier,sent)",
            )
        )
    announcement: dict[str, Any] = {"id": identifier} | ({"draft": True} if draft else {})
    infos = root.findall(NS + "info")
    if not infos:
        if msg_type != "cancel":
            errors.append(("alert.info", "an Alert or Update needs at least one info block"))
    else:
        index = choose_info(infos)
        announcement.update(info_fields(infos[index], f"alert.info[{index}]", is_region, errors))

    # (the None checks only narrow types: a missing field has already added an error)
    if errors or identifier is None or sender is None or sent is None or msg_type is None:
        raise CapError(errors)
    return CapAlert(
        msg_type=msg_type,
        identifier=identifier,
        sender=sender,
        sent=sent,
        references=references,
        announcement=announcement,
    )


def _header(root: Element, errors: Errors) -> tuple[str | None, str | None, datetime | None]:
    """identifier, sender and sent, checked."""
    identifier = required(root, "identifier", "alert.identifier", errors)
    if identifier is not None and re.search(r"[\s,<&]", identifier):
        errors.append(
            ("alert.identifier", "must not contain spaces, commas, '<' or '&' (CAP 1.2 §3.2.1)")
        )
    sender = required(root, "sender", "alert.sender", errors)
    if sender is not None and re.search(r"[\s,<&]", sender):
        errors.append(("alert.sender", "must not contain spaces, commas, '<' or '&'"))
    sent = cap_datetime(required(root, "sent", "alert.sent", errors), "alert.sent", errors)
    return identifier, sender, sent


def _check_published(root: Element, errors: Errors) -> bool:
    """Only Actual, Public alerts are published; True for a Draft (stored as a draft)."""
    status = enum(required(root, "status", "alert.status", errors), _STATUSES, "alert.status")
    if isinstance(status, tuple):
        errors.append(status)
    elif status is not None and status not in ("actual", "draft"):
        errors.append(
            (
                "alert.status",
                f"only Actual alerts are published; this one is {text(root, 'status')!r} "
                "(Exercise, System and Test alerts are never published)",
            )
        )
    scope = enum(required(root, "scope", "alert.scope", errors), _SCOPES, "alert.scope")
    if isinstance(scope, tuple):
        errors.append(scope)
    elif scope is not None and scope != "public":
        errors.append(
            (
                "alert.scope",
                f"only Public alerts are published; this one is {text(root, 'scope')!r}",
            )
        )
    return status == "draft"


def _msg_type(root: Element, errors: Errors) -> Literal["new", "update", "cancel"] | None:
    raw_type = required(root, "msgType", "alert.msgType", errors)
    if raw_type is None:
        return None
    msg_type = _MSG_TYPES.get(raw_type.lower())
    if msg_type is None:
        errors.append(
            (
                "alert.msgType",
                f"{raw_type!r} is not accepted: expected Alert, Update or Cancel "
                "(Ack and Error messages are not announcements)",
            )
        )
    return msg_type


def _parse_xml(data: bytes, max_bytes: int) -> Element:
    if len(data) > max_bytes:
        raise CapTooLargeError(
            "alert", f"the document is {len(data)} bytes; CAP documents are limited to {max_bytes}"
        )
    try:
        root: Element = SafeET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException:
        raise CapError("alert", "DTDs and entities are not allowed") from None
    except ParseError as exc:
        raise CapError("alert", f"not well-formed XML: {exc}") from None
    except (LookupError, ValueError) as exc:
        # expat hands a declared encoding it cannot decode to Python's codecs: unknown names
        # (LookupError), multi-byte or non-text codecs (ValueError, UnicodeError).
        raise CapError("alert", f"unsupported character encoding ({exc}); send UTF-8") from None
    if root.tag != NS + "alert":
        raise CapError(
            "alert",
            f'not a CAP 1.2 document: the root element must be <alert xmlns="{CAP_NAMESPACE}">,'
            f" found {_describe_tag(root.tag)}",
        )
    return root


def _describe_tag(tag: str) -> str:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return f"<{local}> in namespace {namespace!r}"
    return f"<{tag}> without a namespace"


def _references(value: str | None, errors: Errors) -> list[str]:
    if value is None:
        return []
    ids: list[str] = []
    for triple in value.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            errors.append(
                (
                    "alert.references",
                    f"{triple!r} is not a 'sender,identifier,sent' reference",
                )
            )
            continue
        if parts[1] not in ids:
            ids.append(parts[1])
    return ids
