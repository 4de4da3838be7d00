"""API keys: created once and shown once, stored only as SHA-256 hashes in the keys file,
compared in constant time, scoped (national, admin, province:NN, regency:NN.NN) and carrying
roles (publish, draft, approve; an admin key holds them all)."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from siaran_shared.events import utcnow
from siaran_shared.regions import regions

KEY_PREFIX = "siaran"
ROLES = ("publish", "draft", "approve")
DEFAULT_ROLES: tuple[str, ...] = ("publish",)


class InvalidRole(ValueError):
    """A role that is not publish, draft or approve."""


def parse_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Check roles and put them in canonical order; none given means publish (the default)."""
    given = {r.strip() for r in roles}
    unknown = sorted(given - set(ROLES))
    if unknown:
        raise InvalidRole(f"invalid role {unknown[0]!r}: use one of {', '.join(ROLES)}")
    return tuple(r for r in ROLES if r in given) or DEFAULT_ROLES


class InvalidScope(ValueError):
    """A scope string that is not national, admin, province:NN or regency:NN.NN."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What a key may target: everything (national, admin), one province or one regency."""

    kind: str  # national | admin | province | regency
    region: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse and check a scope string against the official region list."""
        kind, _, region = text.strip().partition(":")
        if kind in ("national", "admin") and not region:
            return cls(kind)
        known = regions()
        if kind == "province" and region in known.provinces:
            return cls(kind, region)
        if kind == "regency" and region in known.by_code and "." in region:
            return cls(kind, region)
        raise InvalidScope(
            f"invalid scope {text!r}: use national, admin, province:<code> (e.g. province:73) "
            "or regency:<code> (e.g. regency:73.03) with an official region code"
        )

    def __str__(self) -> str:
        return f"{self.kind}:{self.region}" if self.region else self.kind

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def is_national(self) -> bool:
        """Admin implies national."""
        return self.kind in ("national", "admin")

    def covers(self, region: str) -> bool:
        """Whether this scope may target a region code (or ID, the nation)."""
        if self.is_national:
            return True
        if region == "ID" or self.region is None:
            return False
        if self.kind == "province":
            return (
                regions().province_of(region) == self.region if regions().exists(region) else False
            )
        return region == self.region

    def covers_all(self, codes: Iterable[str]) -> bool:
        """Whether every region code (or ID) is one this scope may target or read."""
        return self.is_national or all(self.covers(code) for code in codes)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the secret itself, only its hash."""

    id: str
    name: str
    scope: str
    hash: str
    created_at: str
    revoked_at: str | None = None
    roles: tuple[str, ...] = DEFAULT_ROLES

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ApiKey:
        """A key from the keys file; one written before roles existed keeps working as publish."""
        return cls(**{**data, "roles": parse_roles(data.get("roles") or DEFAULT_ROLES)})

    @property
    def parsed_scope(self) -> Scope:
        return Scope.parse(self.scope)

    def has_role(self, role: str) -> bool:
        """Whether the key may act in this role; an admin key holds every role."""
        return self.parsed_scope.is_admin or role in self.roles


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class KeyRing:
    """The keys file, re-read whenever it changes so creation and revocation apply at once."""

    path: Path
    _keys: dict[str, ApiKey] = field(default_factory=dict)
    _stamp: tuple[int, int, int, int] | None = None

    def _reload(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._keys, self._stamp = {}, None
            return
        # The inode changes on every write (written beside and renamed over), so a revocation
        # is seen at once even when mtime's granularity and the size hide it.
        stamp = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        if stamp == self._stamp:
            return
        data = json.loads(self.path.read_text("utf-8") or "{}")
        self._keys = {k["id"]: ApiKey.from_stored(k) for k in data.get("keys", [])}
        self._stamp = stamp

    def all_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included."""
        self._reload()
        return list(self._keys.values())

    def verify(self, token: str) -> ApiKey | None:
        """The active key a bearer token belongs to, or None (malformed, unknown, revoked)."""
        parts = token.split("_")
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        self._reload()
        key = self._keys.get(parts[1])
        if key is None or key.revoked_at is not None:
            return None
        return key if hmac.compare_digest(key.hash, _hash(token)) else None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time across processes (`siaran keys`, ingest's keys API, replicas
        sharing the file): a read-modify-write never drops another's key or revocation."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield

    def _write(self, keys: list[ApiKey]) -> None:
        payload: dict[str, Any] = {"keys": [asdict(k) for k in keys]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._stamp = None

    def create(
        self, name: str, scope: str, roles: Iterable[str] = DEFAULT_ROLES
    ) -> tuple[ApiKey, str]:
        """Add a key; returns it and the token, which is never stored and shown only once."""
        parsed = Scope.parse(scope)
        checked = parse_roles(roles)
        key_id = secrets.token_hex(6)
        token = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32).replace('_', '-')}"
        key = ApiKey(key_id, name, str(parsed), _hash(token), utcnow().isoformat(), roles=checked)
        with self._writing():
            self._write([*self.all_keys(), key])
        return key, token

    def revoke(self, key_id_or_name: str, *, by_name: bool = True) -> list[ApiKey]:
        """Revoke keys by id or name (`by_name=False`: by id only); returns those revoked now."""
        now = utcnow().isoformat()
        revoked: list[ApiKey] = []
        updated: list[ApiKey] = []
        with self._writing():
            for key in self.all_keys():
                names = (key.id, key.name) if by_name else (key.id,)
                if key.revoked_at is None and key_id_or_name in names:
                    key = replace(key, revoked_at=now)
                    revoked.append(key)
                updated.append(key)
            if revoked:
                self._write(updated)
        return revoked
