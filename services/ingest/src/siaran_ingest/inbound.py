"""Announcements arriving on the inbound topic: same schema, key and scope rules as HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from siaran_shared.auth import KeyRing
from siaran_shared.events import utcnow
from siaran_shared.http import validation_details
from siaran_shared.kafka import Poison

from siaran_ingest.schema import AnnouncementIn, is_expired
from siaran_ingest.scopes import out_of_scope
from siaran_ingest.submissions import Archive, new_id


async def accept_inbound(
    raws: Sequence[Any], archive: Archive, keyring: KeyRing
) -> tuple[int, list[Poison]]:
    """Submit every valid, authorised record; return how many, and the rest as poison."""
    accepted = 0
    poison: list[Poison] = []
    for raw in raws:
        reason = await _accept_one(raw, archive, keyring)
        if reason is None:
            accepted += 1
        else:
            poison.append(Poison(raw, reason))
    return accepted, poison


async def _accept_one(raw: Any, archive: Archive, keyring: KeyRing) -> str | None:
    headers = {k.lower(): v.decode(errors="replace") for k, v in (raw.headers or ())}
    token = headers.get("authorization", "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        return "unauthorized: missing 'authorization' header with the API key"
    key = keyring.verify(token)
    if key is None:
        return "unauthorized: invalid or revoked API key"
    try:
        body = AnnouncementIn.model_validate_json(raw.value or b"")
    except ValidationError as exc:
        details = validation_details(exc.errors(include_url=False, include_input=False))
        return "invalid: " + "; ".join(f"{d['field']}: {d['message']}" for d in details[:10])
    outside = out_of_scope(key.parsed_scope, body.target)
    if outside:
        return f"forbidden: key {key.name!r} ({key.scope}) may not target {', '.join(outside)}"
    if is_expired(body.expires_at, utcnow()):
        return "invalid: expires_at is in the past"
    announcement = body.to_announcement(body.id or new_id(utcnow()))
    result = await archive.submit(announcement, key)
    if result.outcome == "conflict":
        return f"conflict: announcement {announcement.id!r} exists with different content"
    return None
