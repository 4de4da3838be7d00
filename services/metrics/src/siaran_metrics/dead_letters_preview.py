"""What a person may see of a dead letter: a short preview of its body and its headers, with
anything that looks like a credential cut out.

Dead letters are copied from records that may carry credentials: the inbound topic's
`authorization` header holds an API key (the dead-letter topic never receives it, and metrics
drops any credential header that reaches it anyway), and a body may hold a token its sender
put there by mistake. Metrics cannot know the secret values (it holds none), so it redacts by
shape: JSON fields whose names say credential, Siaran API keys, bearer tokens, the password of
a URL and URL parameters named like a credential.
"""

from __future__ import annotations

import json
import re
from typing import Any

from siaran_shared.messaging.headers import is_sensitive

REDACTED = "[redacted]"
#: Characters of a preview; the whole record is kept for the replay, never shown.
PREVIEW_CHARS = 2000
HEADER_CHARS = 200

_PATTERNS = (
    re.compile(r"siaran_[0-9a-f]{6,64}_[A-Za-z0-9-]{8,}"),  # a Siaran API key
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?<=://)[^/\s:@\"']+:[^/\s@\"']+(?=@)"),  # user:password@ in a URL
    re.compile(
        r"(?i)(?<=[?&;])([a-z_-]*(?:token|secret|password|key|signature|auth)[a-z_-]*)=[^&\s\"'#]+"
    ),
)


def redact_text(text: str) -> str:
    """`text` with every credential-shaped part replaced."""
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if is_sensitive(str(k)) and v not in (None, "") else _redact_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def preview(value: bytes) -> tuple[str, bool]:
    """A redacted, printable preview of a body, and whether it was cut short."""
    text = value.decode("utf-8", errors="replace")
    try:
        text = json.dumps(_redact_json(json.loads(text)), ensure_ascii=False)
    except ValueError:  # not JSON (or not UTF-8): the text as it is, redacted by shape
        text = redact_text(text)
    text = "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)
    if len(text) <= PREVIEW_CHARS:
        return text, False
    return text[:PREVIEW_CHARS], True


def shown_headers(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    """A dead letter's headers as text for people: credential headers left out, values
    redacted and cut short."""
    return {
        name: redact_text(value.decode(errors="replace"))[:HEADER_CHARS]
        for name, value in headers
        if not is_sensitive(name)
    }
