"""Request signatures a receiver can check: X-Siaran-Signature (HMAC-SHA256 of the raw body)
and the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature over id,
timestamp and body, so a receiver can reject stale or replayed requests). Webhooks and
completion callbacks are signed alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def sign(body: bytes, secret: str) -> str:
    """The X-Siaran-Signature header value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(message_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The Standard Webhooks `webhook-signature` value: "v1," and the base64 HMAC-SHA256 of
    "id.timestamp.body". A secret written "whsec_<base64>" is used as those bytes (the
    convention's own secrets), any other as its UTF-8 bytes."""
    key = secret.encode()
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(message_id: str, body: bytes, secret: str) -> dict[str, str]:
    """The signature headers of one request, signed now."""
    timestamp = int(time.time())
    return {
        "X-Siaran-Signature": sign(body, secret),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(message_id, timestamp, body, secret),
    }
