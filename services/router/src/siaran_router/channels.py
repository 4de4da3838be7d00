"""Channel configurations as operators submit them: validated region, kind and endpoint.

Endpoints never hold raw secrets: credentials and tokens are written as {secret:NAME}
placeholders, which the publisher resolves at send time from SIARAN_SECRETS_DIR.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, field_validator
from siaran_shared.events import Channel
from siaran_shared.netguard import refused_reason
from siaran_shared.regions import NATIONAL, regions
from siaran_shared.schemes import FIXED_API, NATIVE, grant_problem
from siaran_shared.secret_refs import PLACEHOLDER

from siaran_router.rawsecrets import raw_secret_in

KINDS = frozenset(
    {
        "web", "x", "facebook", "instagram", "tiktok", "youtube", "telegram", "whatsapp",
        "mastodon", "sms", "email", "threads", "bluesky", "discord", "slack", "line",
        "signal", "push", "radio", "other",
    }
)  # fmt: skip
CHANNEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
REGION_PATTERN = r"^(ID|[0-9]{2}(\.[0-9]{2})?)$"
#: A scheme, then no whitespace (surrounding whitespace is trimmed).
ENDPOINT_PATTERN = r"^\s*[A-Za-z][A-Za-z0-9+.-]*:\S+\s*$"
MAX_ENDPOINT = 2048
SECRET_NAME = r"^[A-Za-z0-9_]{1,64}$"  # noqa: S105 - a pattern for names, not a secret
#: What Apprise's URL check sees in place of each {secret:NAME}: the value is unknown here,
#: and Apprise checks the shape of some credentials (a Telegram bot token is digits:token).
STAND_INS = ("standin0secret", "123456789:standin-secret-value-for-the-url-check")

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


@lru_cache(maxsize=4096)  # a whole registry of distinct endpoints must not pin memory
def _apprise_accepts(url: str) -> bool:
    import apprise

    # Apprise's e-mail plugin, loaded on the first check, imports the stdlib `imghdr`
    # (deprecated since Python 3.11): Apprise's warning to fix, silenced here only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        return bool(apprise.Apprise().add(url))


#: Hosts or networks permitted despite the link-local / metadata rule (set by create_app from
#: SIARAN_ENDPOINT_ALLOWLIST).
ENDPOINT_ALLOWLIST: set[str] = set()


def check_endpoint(endpoint: str) -> str:
    """Refuse unknown schemes and raw secrets; returns the endpoint unchanged."""
    if any(ch in endpoint for ch in "\r\n\t ") or len(endpoint) > MAX_ENDPOINT:
        raise ValueError(
            f"endpoint must be one URL without spaces or line breaks, ≤ {MAX_ENDPOINT} chars"
        )
    parts = urlsplit(endpoint)
    if not parts.scheme:
        raise ValueError("endpoint needs a scheme: https://… for webhooks or an Apprise URL")
    raw = raw_secret_in(endpoint, parts)
    if raw:
        raise ValueError(
            f"endpoint contains {raw}; write it as {{secret:NAME}} and put the value in "
            "SIARAN_SECRETS_DIR/NAME"
        )
    if parts.scheme.lower() in NATIVE:
        return _check_native(endpoint, parts.scheme.lower(), parts.netloc, parts.path)
    # a fixed-API scheme's "host" is an account id or a credential, not a server
    destination = parts.hostname if parts.scheme.lower() not in FIXED_API else None
    refused = refused_reason(destination, ENDPOINT_ALLOWLIST) if destination else None
    if refused:
        raise ValueError(
            f"endpoint refused: {refused}; an operator can permit it with "
            "SIARAN_ENDPOINT_ALLOWLIST (host names or CIDR networks)"
        )
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("webhook endpoint has no host")
        return endpoint
    if not any(_apprise_accepts(PLACEHOLDER.sub(value, endpoint)) for value in STAND_INS):
        raise ValueError(
            f"unknown endpoint scheme {parts.scheme!r}: use http(s):// for a webhook or a URL "
            "that Apprise supports (tgram://, mastodon://, mailto://, json://, …)"
        )
    return endpoint


def _check_native(endpoint: str, scheme: str, account: str, path: str) -> str:
    """scheme://ACCOUNT_ID?token={secret:NAME}: the id the platform gives, a token secret."""
    shape = NATIVE[scheme]
    if not re.fullmatch(shape, account) or path not in ("", "/"):
        wanted = f"{scheme}://ACCOUNT_ID (matching {shape})" if shape else f"{scheme}://"
        raise ValueError(f"{scheme} endpoint must be {wanted}?token={{secret:NAME}}")
    query = parse_qs(urlsplit(endpoint).query)
    tokens = query.get("token", [])
    if len(tokens) != 1 or not PLACEHOLDER.fullmatch(tokens[0]):
        raise ValueError(f"{scheme} endpoint needs token={{secret:NAME}} (the token's secret)")
    if problem := grant_problem(scheme, {name: values[-1] for name, values in query.items()}):
        raise ValueError(f"{scheme} endpoint: {problem}")
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

    # The schema states the shape; the validators below refuse with messages that say why.
    region: str = Field(
        description="Region code (e.g. 73 or 73.03) of shared/data/regions, or ID for national.",
        json_schema_extra={"pattern": REGION_PATTERN},
    )
    kind: str = Field(
        description="Platform; decides the rendering limits.",
        json_schema_extra={"enum": list[JsonValue](sorted(KINDS))},
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    endpoint: str = Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_ENDPOINT, "pattern": ENDPOINT_PATTERN},
        description="https webhook or Apprise URL (scheme://…, no spaces); secrets as "
        "{secret:NAME}, never raw.",
    )
    tags: list[Tag] = Field([], max_length=32)
    enabled: bool = Field(True, strict=True, description="true or false (not 0, 1 or a string).")
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
