"""Server-side sessions: the cookie holds only a random token; the API key stays in memory.

One console instance holds its sessions in memory, so a restart signs everyone out (by
design: no API key is ever written to disk). Several instances need sticky sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from siaran_shared.regions import ZONE_OFFSETS

from siaran_console.backends import Identity

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
DEFAULT_ZONE = "WIB"


@dataclass
class Session:
    """One browser's session: its CSRF token, preferences and, once signed in, its key."""

    csrf: str = field(repr=False)
    created: float
    seen: float
    locale: str = DEFAULT_LOCALE
    zone: str = DEFAULT_ZONE
    key: str | None = field(default=None, repr=False)  # never rendered, logged or repr'd
    manages_channels: bool = False  # the router lets this key list the registry
    identity: Identity = field(default_factory=lambda: Identity(admin=False))
    flashes: list[str] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return self.key is not None

    @property
    def admin(self) -> bool:
        return self.identity.admin

    @property
    def may_approve(self) -> bool:
        """Offer approvals unless the key's roles are known to lack approve (the API decides)."""
        roles = self.identity.roles
        return roles is None or "approve" in roles

    @property
    def publishes(self) -> bool:
        """Whether a submission goes out at once (else it waits for approval)."""
        roles = self.identity.roles
        return roles is None or "publish" in roles

    def submitted(self, announcement: dict[str, object]) -> bool:
        """Whether this key submitted `announcement` (its name, when the APIs told it)."""
        name = self.identity.name
        return name is not None and announcement.get("submitted_by") == name

    def csrf_matches(self, token: str | None) -> bool:
        """Whether a submitted form carries this session's CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf, token or "")

    def prefer(self, *, locale: str | None = None, zone: str | None = None) -> None:
        """Set the language or the time zone dates are shown in (unknown values ignored)."""
        if locale in LOCALES:
            self.locale = locale
        if zone in ZONE_OFFSETS:
            self.zone = zone

    def flash(self, message: str) -> None:
        """A message shown once, on the next page."""
        self.flashes.append(message)

    def take_flashes(self) -> list[str]:
        taken, self.flashes = self.flashes, []
        return taken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Sessions by the hash of their cookie token, ended after a lifetime or idle time."""

    def __init__(
        self,
        *,
        lifetime: float,
        idle: float,
        max_sessions: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime = lifetime
        self.idle = idle
        self.max_sessions = max_sessions
        self.clock = clock
        self._by_digest: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_digest)

    def new(self, *, like: Session | None = None) -> tuple[str, Session]:
        """A fresh session (keeping the preferences of `like`); returns its cookie token."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), created=now, seen=now)
        if like is not None:
            session.prefer(locale=like.locale, zone=like.zone)
        self._by_digest[_digest(token)] = session
        while len(self._by_digest) > self.max_sessions:
            self._by_digest.popitem(last=False)
        return token, session

    def get(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session of a cookie token; an expired one is ended and None returned."""
        if not token:
            return None
        digest = _digest(token)
        session = self._by_digest.get(digest)
        if session is None:
            return None
        now = self.clock()
        if now - session.created > self.lifetime or now - session.seen > self.idle:
            del self._by_digest[digest]
            return None
        if touch:
            session.seen = now
            self._by_digest.move_to_end(digest)
        return session

    def end(self, token: str | None) -> None:
        """Forget a session (sign-out); unknown tokens are ignored."""
        if token:
            self._by_digest.pop(_digest(token), None)

    def sign_in(
        self,
        token: str | None,
        key: str,
        *,
        manages_channels: bool,
        identity: Identity | None = None,
    ) -> tuple[str, Session]:
        """A new session holding `key`; the old token stops working (no session fixation)."""
        old = self.get(token, touch=False)
        self.end(token)
        new_token, session = self.new(like=old)
        session.key = key
        session.manages_channels = manages_channels
        session.identity = identity or Identity(admin=False)
        return new_token, session
