"""Channel configurations as operators submit them: validated region, kind and endpoint.

Endpoints never hold raw secrets: credentials and tokens are written as {secret:NAME}
placeholders, which the publisher resolves at send time from SIARAN_SECRETS_DIR.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from siaran_shared.events import Channel
from siaran_shared.netguard import refused_reason
from siaran_shared.regions import NATIONAL, regions

KINDS = frozenset(
    {
        "web", "x", "facebook", "instagram", "tiktok", "youtube", "telegram", "whatsapp",
        "mastodon", "sms", "email", "threads", "bluesky", "discord", "slack", "line",
        "signal", "push", "radio", "other",
    }
)  # fmt: skip
CHANNEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
PLACEHOLDER = re.compile(r"\{secret:([A-Za-z0-9_]{1,64})\}")
SECRET_NAME = r"^[A-Za-z0-9_]{1,64}$"  # noqa: S105 - a pattern for names, not a secret
_SECRET_QUERY_KEYS = re.compile(
    r"(token|secret|password|passwd|pass|pwd|key|apikey|api_key|access_token|auth|signature|sig)$",
    re.IGNORECASE,
)

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


@cache
def _apprise_accepts(url: str) -> bool:
    import apprise

    return bool(apprise.Apprise().add(url))


#: Hosts or networks permitted despite the link-local / metadata rule (set by create_app from
#: SIARAN_ENDPOINT_ALLOWLIST).
ENDPOINT_ALLOWLIST: set[str] = set()


def check_endpoint(endpoint: str) -> str:
    """Refuse unknown schemes and raw secrets; returns the endpoint unchanged."""
    if any(ch in endpoint for ch in "\r\n\t ") or len(endpoint) > 2048:
        raise ValueError("endpoint must be one URL without spaces or line breaks, ≤ 2048 chars")
    parts = urlsplit(endpoint)
    if not parts.scheme:
        raise ValueError("endpoint needs a scheme: https://… for webhooks or an Apprise URL")
    raw_userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    password = raw_userinfo.partition(":")[2]
    if password and not PLACEHOLDER.fullmatch(password):
        raise ValueError(
            "endpoint contains a raw password; write it as {secret:NAME} and put the value "
            "in SIARAN_SECRETS_DIR/NAME"
        )
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_QUERY_KEYS.search(name) and value and not PLACEHOLDER.fullmatch(value):
            raise ValueError(
                f"endpoint query parameter {name!r} holds a raw secret; write it as "
                "{secret:NAME} and put the value in SIARAN_SECRETS_DIR/NAME"
            )
    refused = refused_reason(parts.hostname, ENDPOINT_ALLOWLIST) if parts.hostname else None
    if refused:
        raise ValueError(
            f"endpoint refused: {refused}; an operator can permit it with "
            "SIARAN_ENDPOINT_ALLOWLIST (host names or CIDR networks)"
        )
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("webhook endpoint has no host")
        return endpoint
    probe = PLACEHOLDER.sub("placeholder0secret", endpoint)
    if not _apprise_accepts(probe):
        raise ValueError(
            f"unknown endpoint scheme {parts.scheme!r}: use http(s):// for a webhook or a URL "
            "that Apprise supports (tgram://, mastodon://, mailto://, json://, …)"
        )
    return endpoint


class ChannelIn(BaseModel):
    """PUT /v1/channels/{channel_id} body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "region": "73.03",
                    "kind": "web",
                    "name": "Diskominfo Bantaeng",
                    "endpoint": "https://bantaengkab.go.id/siaran/hook",
                    "tags": ["official"],
                    "enabled": True,
                    "rate_per_minute": 60,
                    "secret": "BANTAENG_HOOK",
                }
            ]
        },
    )

    region: str = Field(description="Region code (e.g. 73 or 73.03) or ID for national.")
    kind: str = Field(description="Platform; decides the rendering limits.")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    endpoint: str = Field(description="https webhook or Apprise URL; secrets as {secret:NAME}.")
    tags: list[Tag] = Field([], max_length=32)
    enabled: bool = True
    rate_per_minute: int | None = Field(None, ge=1, le=100_000)
    secret: str | None = Field(None, pattern=SECRET_NAME, description="Name of the HMAC secret.")

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if v != NATIONAL and not regions().exists(v):
            raise ValueError(f"unknown region {v!r}: use an official province/regency code or ID")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"unknown kind {v!r}; known kinds: {', '.join(sorted(KINDS))}")
        return v

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        return check_endpoint(v.strip())

    def to_channel(self, channel_id: str) -> Channel:
        return Channel(
            id=channel_id,
            region=self.region,
            kind=self.kind,
            name=self.name,
            endpoint=self.endpoint,
            tags=tuple(self.tags),
            enabled=self.enabled,
            rate_per_minute=self.rate_per_minute,
            secret=self.secret,
        )
