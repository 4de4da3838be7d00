"""Meta's Graph API (Facebook Pages, Instagram) and the Threads API, which answers the same
way: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

- code 190 (sent with HTTP 400) or HTTP 401: the access token expired or was revoked;
- codes 4 (app), 17 (user), 32 (page), 613 and 80001-80014 (business use case): throttled;
  the `X-Business-Use-Case-Usage` header says in `estimated_time_to_regain_access` how many
  minutes until calls are accepted again;
- codes 1 and 2, `is_transient`, HTTP 5xx: the platform's own trouble, tried again;
- anything else (bad media, permissions, policy): refused, with the platform's message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms.common import (
    PlatformError,
    Work,
    json_of,
    later,
    reconnect,
    refused,
)

TOKEN_EXPIRED = 190
RATE_LIMITED = frozenset({4, 17, 32, 613}) | frozenset(range(80001, 80015))
TRANSIENT = frozenset({1, 2})
#: Wait when a throttled answer does not say how long (Graph's windows are an hour rolling).
DEFAULT_WAIT = 60.0


def judge(
    platform: str, status: int, body: Mapping[str, Any], headers: Mapping[str, str]
) -> Attempt:
    """What a failed Graph call means for the delivery."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = error.get("code")
    message = str(error.get("error_user_msg") or error.get("message") or f"HTTP {status}")
    if code == TOKEN_EXPIRED or status == 401:
        return reconnect(platform, message)
    if code in RATE_LIMITED or status == 429:
        return later(platform, f"rate limited (code {code}): {message}", status,
                     regain_access(headers) or DEFAULT_WAIT)  # fmt: skip
    if code in TRANSIENT or error.get("is_transient") or status >= 500:
        return later(platform, message, status, None)
    return refused(platform, status, message)


def regain_access(headers: Mapping[str, str]) -> float | None:
    """Seconds until a throttled app may call again, from the usage headers Graph sends."""
    raw = headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access", 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(longest) * 60 if longest > 0 else None


async def call(
    work: Work, platform: str, method: str, path: str, data: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One Graph call with the channel's token; its JSON, or PlatformError saying what it means."""
    async with work.session.request(
        method, f"{work.base}/{path}", data=data, headers=work.auth, allow_redirects=False
    ) as response:
        body = await json_of(response)
        if response.status >= 400 or "error" in body:
            raise PlatformError(judge(platform, response.status, body, response.headers))
        return body


async def delete(work: Work, platform: str, post_id: str) -> Attempt:
    """A retraction: `DELETE /{post-id}` (a Page post; a Threads media id, which needs the
    token's `threads_delete` permission and counts against 100 deletions a day)."""
    await call(work, platform, "DELETE", post_id)
    return Attempt(Verdict.DELIVERED, f"{platform} post {post_id} deleted", status=200)
