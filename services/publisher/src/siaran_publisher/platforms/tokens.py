"""Access tokens that expire and are refreshed without a person: TikTok (an access token
lives 2 to 24 hours; refresh tokens rotate: each refresh answers a new one and the old one
stops working) and YouTube (Google OAuth 2.0: an access token lives an hour; the refresh
token lasts until revoked).

A channel line that names a refresh token, its app's client id and client secret, all as
secrets, has its access token refreshed before it expires:
`tiktok://?token={secret:T}&refresh={secret:R}&client_id={secret:K}&client_secret={secret:S}`
(TikTok's `client_key` is given as client_id). The refresh is the OAuth 2.0 refresh grant
(RFC 6749 section 6) each platform documents: `POST /v2/oauth/token/` (TikTok, form fields
`client_key`, `client_secret`, `grant_type=refresh_token`, `refresh_token`) or `POST
https://oauth2.googleapis.com/token` (Google, `client_id` instead of `client_key`); both
answer `{"access_token", "expires_in", "refresh_token"?}` or `{"error", "error_description"}`.

The new access token and the latest refresh token are kept in the publisher's store,
encrypted with Fernet under the key(s) in one secret (SIARAN_TOKEN_KEY_SECRET), beside a
fingerprint of the refresh token the channel names: saving the channel with a new refresh
token starts afresh from it. One refresh per channel at a time: a second one with a rotated
TikTok token that the first just replaced would be refused."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from siaran_publisher.outcome import Attempt
from siaran_publisher.platforms.common import (
    Account,
    ChannelLineError,
    PlatformError,
    json_of,
    later,
    reconnect,
    refused,
)
from siaran_shared.events import utcnow
from siaran_shared.schemes import GRANT_OPTIONS, REFRESHABLE, grant_problem
from siaran_shared.secret_refs import PLACEHOLDER
from siaran_shared.secrets import Secrets
from siaran_shared.store import Collection

#: A token is refreshed when it has less than this left to live.
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Grant:
    """The refresh grant of one channel, its secrets read."""

    refresh_token: str
    client_id: str
    client_secret: str

    @classmethod
    def of(cls, account: Account, secrets: Secrets) -> Grant | None:
        """The channel's grant; None when the line names no refresh token."""
        if problem := grant_problem(account.scheme, account.options):
            raise ChannelLineError(problem)
        named = [account.options.get(option) for option in GRANT_OPTIONS]
        if not any(named):
            return None
        found = [PLACEHOLDER.fullmatch(value or "") for value in named]
        return cls(*(secrets.get(m.group(1)) for m in found if m))

    @property
    def fingerprint(self) -> str:
        """Names the refresh token the channel was saved with, without holding it."""
        return hashlib.sha256(self.refresh_token.encode()).hexdigest()


@dataclass
class Vault:
    """Refreshed tokens in the store, encrypted; the key is read from a secret at use."""

    docs: Collection
    secrets: Secrets
    key_secret: str = "TOKEN_KEY"  # noqa: S105 (the secret's name, not its value)
    prefix: str = "#token:"  # "#" is in no delivery id (keys share the collection)

    def _fernet(self) -> MultiFernet:
        keys = [k.strip() for k in self.secrets.own(self.key_secret).split(",") if k.strip()]
        try:
            return MultiFernet([Fernet(k) for k in keys])  # the first encrypts; any decrypts
        except ValueError:
            raise ChannelLineError(
                f"secret {self.key_secret!r} must hold Fernet keys (comma-separated), as"
                " printed by `python -c 'from cryptography.fernet import Fernet;"
                " print(Fernet.generate_key().decode())'`"
            ) from None

    async def load(self, channel_id: str, fingerprint: str) -> tuple[str, str, datetime] | None:
        """The stored access token, refresh token and expiry, if saved for this grant."""
        doc = await self.docs.get(self.prefix + channel_id)
        if not doc or doc.get("fingerprint") != fingerprint:
            return None
        fernet = self._fernet()
        try:
            access, refresh = (fernet.decrypt(doc[k]).decode() for k in ("access", "refresh"))
        except InvalidToken:  # the key changed: start again from the channel's refresh token
            return None
        return access, refresh, datetime.fromisoformat(doc["expires_at"])

    async def save(
        self, channel_id: str, fingerprint: str, access: str, refresh: str, expires_at: datetime
    ) -> None:
        fernet = self._fernet()
        sealed = {k: fernet.encrypt(v.encode()).decode() for k, v in
                  {"access": access, "refresh": refresh}.items()}  # fmt: skip
        doc = {"fingerprint": fingerprint, "expires_at": expires_at.isoformat()} | sealed
        await self.docs.put(self.prefix + channel_id, doc)

    async def expire(self, channel_id: str) -> None:
        """The platform refused the stored access token: refresh before the next use."""
        await self.docs.update(self.prefix + channel_id, {"expires_at": utcnow().isoformat()})


@dataclass
class Refresher:
    """Gives a channel's access token, refreshed first when it is about to expire."""

    vault: Vault
    #: scheme -> the platform's token endpoint
    endpoints: Mapping[str, str]
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def token(
        self, session: aiohttp.ClientSession, account: Account, channel_id: str, grant: Grant
    ) -> str:
        """A live access token for the channel; PlatformError when the platform refuses."""
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:  # one refresh at a time per channel (rotating refresh tokens)
            stored = await self.vault.load(channel_id, grant.fingerprint)
            if stored is not None and stored[2] - utcnow() > REFRESH_MARGIN:
                return stored[0]
            refresh_token = stored[1] if stored is not None else grant.refresh_token
            access, rotated, lifetime = await self._refresh(session, account.scheme, grant,
                                                            refresh_token)  # fmt: skip
            expires_at = utcnow() + timedelta(seconds=lifetime)
            await self.vault.save(channel_id, grant.fingerprint, access,
                                  rotated or refresh_token, expires_at)  # fmt: skip
            return access

    async def _refresh(
        self, session: aiohttp.ClientSession, scheme: str, grant: Grant, refresh_token: str
    ) -> tuple[str, str | None, float]:
        form = {
            REFRESHABLE[scheme]: grant.client_id,
            "client_secret": grant.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        async with session.post(
            self.endpoints[scheme], data=form, allow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:  # fmt: skip
            body = await json_of(response)
            status = response.status
        if status == 200 and isinstance(body.get("access_token"), str):
            lifetime = float(body.get("expires_in") or 3600)
            rotated = body.get("refresh_token")
            return body["access_token"], rotated if isinstance(rotated, str) else None, lifetime
        raise PlatformError(judge(scheme, status, body))


def judge(scheme: str, status: int, body: Mapping[str, object]) -> Attempt:
    """What a refused refresh means: `invalid_grant` (the refresh token expired or was
    revoked) needs a person to connect the channel again; a wrong client id or secret is
    the channel line's fault; the platform's own trouble is tried again."""
    error = str(body.get("error") or f"HTTP {status}")
    message = f"token refresh refused: {error}: {body.get('error_description') or ''}".strip()
    if error == "invalid_grant":
        return reconnect(scheme, message)
    if status in (408, 429) or status >= 500:
        return later(scheme, message, status, None)
    return refused(scheme, status, message)
