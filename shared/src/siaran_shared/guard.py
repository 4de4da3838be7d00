"""Endpoint safety where it counts: on the addresses a send actually connects to.

The registry refuses hostile endpoints as written, but a name can resolve to a link-local
or cloud-metadata address (or be re-pointed there after registration). Every webhook
connection resolves through `GuardedResolver`, which refuses a name when any of its
addresses is refused; Apprise sends ask `refused` first (Apprise connects by itself)."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from siaran_shared.netguard import allow_listed_name, refused_reason


class RefusedAddress(OSError):
    """A name resolved to an address endpoints may not reach."""


class GuardedResolver(AbstractResolver):
    """Resolves through `inner` and refuses names that reach refused addresses."""

    def __init__(self, allow: Iterable[str] = (), inner: AbstractResolver | None = None) -> None:
        self._allow = tuple(allow)
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:  # made here: aiohttp's resolver wants a running loop
            self._inner = DefaultResolver()
        found = await self._inner.resolve(host, port, family)
        if allow_listed_name(host, self._allow):
            return found
        for entry in found:
            reason = refused_reason(entry["host"], self._allow)
            if reason:
                raise RefusedAddress(f"{host} resolves to a refused address: {reason}")
        return found

    async def refused(self, host: str | None, port: int = 0) -> str | None:
        """Why a host may not be sent to, as written or as resolved; None when it may."""
        reason = refused_reason(host, self._allow)
        if reason or not host:
            return reason
        try:
            await self.resolve(host, port, socket.AF_UNSPEC)
        except RefusedAddress as exc:
            return str(exc)
        except OSError:
            return None  # unresolvable now: the transport reports it (and it is retried)
        return None

    async def close(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.close()
