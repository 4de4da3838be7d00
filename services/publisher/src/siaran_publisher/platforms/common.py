"""What every platform adapter shares: the channel line, the work context, the answers.

A channel line names the account and the token's secret, never the token:
`facebook://PAGE_ID?token={secret:NAME}`. The token is read from the secrets when a post is
sent and goes only into the `Authorization` header of the platform's API calls, never into
a URL, a log, an event or a summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from siaran_publisher.channels import reconnect_reason
from siaran_publisher.outcome import Attempt, Verdict
from siaran_shared.events import DeliveryPlanned, Media, utcnow
from siaran_shared.secret_refs import PLACEHOLDER
from siaran_shared.secrets import Secrets
from siaran_shared.store import Collection

#: Longest excerpt of a platform's own message kept in an outcome.
EXCERPT = 200


class ChannelLineError(ValueError):
    """A platform channel line that names no account or no token secret."""


class PlatformError(Exception):
    """A platform's answer other than success, judged: what it means for the delivery."""

    def __init__(self, attempt: Attempt) -> None:
        super().__init__(attempt.summary)
        self.attempt = attempt


@dataclass(frozen=True, slots=True)
class Account:
    """A platform channel line, parsed: the scheme, the account id and the token's name."""

    scheme: str
    account: str
    token_secret: str
    options: Mapping[str, str]

    @classmethod
    def parse(cls, endpoint: str) -> Account:
        parts = urlsplit(endpoint)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        placeholder = PLACEHOLDER.fullmatch(query.pop("token", ""))
        if placeholder is None:
            raise ChannelLineError("token must be given as token={secret:NAME}")
        # netloc, not hostname: account ids such as YouTube's are case-sensitive
        return cls(parts.scheme.lower(), parts.netloc, placeholder.group(1), query)


@dataclass
class Posts:
    """What a platform answered so far for each delivery, kept in the store: the container
    or publish id of a post in progress (so a retry or a restart finishes that post and never
    creates a second one) and the post id (what a retraction deletes)."""

    docs: Collection
    #: put before each key when the collection is shared with other records
    prefix: str = ""

    async def get(self, delivery_id: str) -> dict[str, Any]:
        return dict(await self.docs.get(self.prefix + delivery_id) or {})

    async def note(self, delivery_id: str, **fields: str) -> None:
        current = await self.get(delivery_id)
        # `at`: kept as long as the delivery claims are (the retention counts from it)
        changed = current | fields | {"at": utcnow().isoformat()}
        await self.docs.put(self.prefix + delivery_id, changed)


@dataclass
class Work:
    """One post or retraction in progress: the task, its account and what an adapter needs."""

    task: DeliveryPlanned
    account: Account
    token: str
    session: aiohttp.ClientSession
    base: str
    posts: Posts
    #: hosts or networks allowed although link-local or metadata (SIARAN_ENDPOINT_ALLOWLIST)
    allow: tuple[str, ...] = ()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def media(self, kind: str) -> Media | None:
        """The announcement's first image or video."""
        return next((m for m in self.task.media if m.type == kind), None)

    def caption(self, limit: int) -> str:
        """The rendered text, cut to a platform's limit in characters (the renderer already
        fits it; this only guards the API from a text rendered under an older rule)."""
        text = self.task.text
        return text if len(text) <= limit else text[: limit - 1] + "…"


def resolve_token(endpoint: str, secrets: Secrets) -> tuple[Account, str]:
    """The channel's account and its token, read now from the secrets."""
    account = Account.parse(endpoint)
    return account, secrets.get(account.token_secret)


def delivered(platform: str, post_id: str) -> Attempt:
    """A post made: the platform's post id, as the outcome records it (a container's id,
    `container:ID`, names no post and is left out of the outcome's post_id)."""
    known = None if post_id.startswith("container:") else post_id
    return Attempt(Verdict.DELIVERED, f"{platform} post_id={post_id}", 200, post_id=known)


def media_required(platform: str) -> Attempt:
    """A platform that cannot post text alone, given an announcement without media."""
    return Attempt(
        Verdict.UNSUPPORTED, f"media_required: {platform} posts need an image or a video"
    )


def not_supported(platform: str) -> Attempt:
    """A retraction the platform's API does not allow."""
    return Attempt(
        Verdict.UNSUPPORTED, f"not_supported: {platform} does not allow deleting posts by API"
    )


def reconnect(platform: str, message: str) -> Attempt:
    """The platform says the token expired or was revoked (Graph code 190, which it sends
    with HTTP 400; TikTok `access_token_invalid`; HTTP 401): the channel needs reconnecting
    (channels.Reconnects), whatever HTTP status the platform used."""
    return Attempt(
        Verdict.PERMANENT,
        f"{reconnect_reason(platform)} ({platform} said: {message[:EXCERPT]})",
        status=401,
        token_dead=True,
    )


def refused(platform: str, status: int, message: str) -> Attempt:
    """A permanent refusal (bad media, policy): the platform's own words."""
    return Attempt(Verdict.PERMANENT, f"{platform} refused: {message[:EXCERPT]}", _plain(status))


def later(platform: str, message: str, status: int | None, retry_after: float | None) -> Attempt:
    """Worth trying again: rate limits, the platform's own failures, posts still processing."""
    return Attempt(Verdict.RETRY, f"{platform}: {message[:EXCERPT]}", _plain(status), retry_after)


def _plain(status: int | None) -> int | None:
    """An HTTP status that does not say "needs reconnect" when the platform's answer did not
    (platforms send 403 for policy refusals and quotas, not only for dead tokens)."""
    return None if status in (401, 403) else status


async def json_of(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """A response's JSON object, or {} when it is not one (an HTML error page, nothing)."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientPayloadError):
        return {}
    return body if isinstance(body, dict) else {}
