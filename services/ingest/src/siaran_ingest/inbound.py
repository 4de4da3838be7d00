"""Announcements arriving on the inbound topic: same schema, key and scope rules as HTTP.

The API key travels in an ``authorization`` header (``Bearer <key>`` or the bare key); a
``content-type`` header of ``application/cap+xml`` marks a CAP 1.2 alert, anything else is the
announcement JSON. Records that can never be accepted become poison for the dead-letter
topic; a failure to publish raises, so the batch is consumed again (nothing is lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from siaran_shared.auth import KeyRing
from siaran_shared.messaging import Poison

from siaran_ingest.answers import Rejected
from siaran_ingest.intake import Intake


async def accept_inbound(
    raws: Sequence[Any], intake: Intake, keyring: KeyRing
) -> tuple[int, list[Poison]]:
    """Submit every valid, authorised record; return how many, and the rest as poison."""
    accepted = 0
    poison: list[Poison] = []
    for raw in raws:
        reason = await _accept_one(raw, intake, keyring)
        if reason is None:
            accepted += 1
        else:
            poison.append(Poison(raw, reason))
    return accepted, poison


async def _accept_one(raw: Any, intake: Intake, keyring: KeyRing) -> str | None:
    headers = {k.lower(): v.decode(errors="replace") for k, v in (raw.headers or ())}
    token = headers.get("authorization", "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        intake.count("rejected")
        return "unauthorized: missing 'authorization' header with the API key"
    key = keyring.verify(token)
    if key is None:
        intake.count("rejected")
        return "unauthorized: invalid or revoked API key"
    try:
        await intake.submit(raw.value or b"", headers.get("content-type"), key)
    except Rejected as exc:
        return exc.reason
    return None
