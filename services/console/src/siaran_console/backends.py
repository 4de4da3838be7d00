"""The console's only way to the data: the other services' public HTTP APIs, with the
signed-in person's own API key, so every answer is already cut to the key's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from siaran_console.config import ConsoleSettings

Service = Literal["ingest", "router", "metrics"]


@dataclass
class ApiProblem(Exception):
    """A refusal or failure of another service, in the contract's error shape."""

    status: int
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


def _problem(service: str, response: httpx.Response) -> ApiProblem:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    message = error.get("message") or f"{service} answered {response.status_code}"
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    return ApiProblem(response.status_code, str(message), details)


ALL_ROLES = frozenset({"publish", "draft", "approve"})


@dataclass(frozen=True)
class Identity:
    """What the console knows of a signed-in key: None where the APIs did not say."""

    admin: bool
    name: str | None = None
    roles: frozenset[str] | None = None

    @classmethod
    def of(cls, me: dict[str, Any]) -> Identity:
        admin = str(me.get("scope", "")) == "admin"
        roles = ALL_ROLES if admin else frozenset(str(r) for r in me.get("roles", []))
        name = me.get("name")
        return cls(admin=admin, name=str(name) if name else None, roles=roles)


def _id(value: str) -> str:
    return quote(value, safe="")


class Backends:
    """Typed calls to ingest, router and metrics; one pooled client per service."""

    def __init__(
        self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        urls = {
            "ingest": settings.console_ingest_url,
            "router": settings.console_router_url,
            "metrics": settings.console_metrics_url,
        }
        self._clients = {
            name: httpx.AsyncClient(
                base_url=str(url).rstrip("/"),
                timeout=settings.console_api_timeout_seconds,
                transport=transport,
                follow_redirects=False,
            )
            for name, url in urls.items()
        }

    def client(self, service: Service) -> httpx.AsyncClient:
        """The pooled client of one service (for probes without a key)."""
        return self._clients[service]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        key: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The JSON answer (None for 204), or ApiProblem with the service's own words."""
        headers = {"Authorization": f"Bearer {key}"}
        try:
            response = await self._clients[service].request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TimeoutException:
            raise ApiProblem(504, f"{service} did not answer in time; try again") from None
        except httpx.HTTPError:
            raise ApiProblem(503, f"{service} is not reachable; try again shortly") from None
        if response.status_code >= 400:
            raise _problem(service, response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiProblem(502, f"{service} answered something other than JSON") from None

    # --- sign-in -----------------------------------------------------------------------------

    async def key_manages_channels(self, key: str) -> bool:
        """Check a key (ApiProblem 401 when invalid); True when the router lets it list the
        channel registry (admin keys today; regional keys once the registry is self-service)."""
        await self.call("metrics", "GET", "/v1/announcements", key, params={"limit": 1})
        try:
            await self.call("router", "GET", "/v1/channels", key, params={"limit": 1})
        except ApiProblem as problem:
            if problem.status == 403:
                return False
            raise
        return True

    # --- announcements -----------------------------------------------------------------------

    async def recent(
        self, key: str, *, since: str | None = None, limit: int = 100, region: str | None = None
    ) -> Any:
        """metrics' recent announcements; `region`: only those whose target reaches it."""
        params: dict[str, Any] = {"limit": limit} | ({"since": since} if since else {})
        params |= {"region": region} if region else {}
        return await self.call("metrics", "GET", "/v1/announcements", key, params=params)

    async def report(self, key: str, announcement_id: str) -> Any:
        path = f"/v1/announcements/{_id(announcement_id)}/report"
        return await self.call("metrics", "GET", path, key)

    async def announcement(self, key: str, announcement_id: str) -> Any:
        return await self.call("ingest", "GET", f"/v1/announcements/{_id(announcement_id)}", key)

    async def submit(self, key: str, body: dict[str, Any]) -> Any:
        return await self.call("ingest", "POST", "/v1/announcements", key, json=body)

    async def cancel(self, key: str, announcement_id: str, reason: str | None) -> Any:
        path = f"/v1/announcements/{_id(announcement_id)}/cancel"
        body = {"reason": reason} if reason else None
        return await self.call("ingest", "POST", path, key, json=body)

    async def listed(self, key: str, *, status: str, limit: int = 50, cursor: str = "") -> Any:
        """ingest's list of announcements in the key's scope with one status."""
        params: dict[str, Any] = {"status": status, "limit": limit} | (
            {"cursor": cursor} if cursor else {}
        )
        return await self.call("ingest", "GET", "/v1/announcements", key, params=params)

    async def step(
        self, key: str, announcement_id: str, action: str, body: dict[str, Any] | None = None
    ) -> Any:
        """A workflow step: submit, approve or reject (with {"reason"})."""
        path = f"/v1/announcements/{_id(announcement_id)}/{action}"
        return await self.call("ingest", "POST", path, key, json=body)

    async def replace(self, key: str, announcement_id: str, body: dict[str, Any]) -> Any:
        """PUT: edit a draft, or publish a correction of an accepted announcement."""
        path = f"/v1/announcements/{_id(announcement_id)}"
        return await self.call("ingest", "PUT", path, key, json=body)

    async def preview(self, key: str, body: dict[str, Any]) -> Any:
        return await self.call("router", "POST", "/v1/previews", key, json=body)

    async def deliveries(self, key: str, announcement_id: str, **filters: str | int) -> Any:
        """metrics' per-delivery detail of an announcement (status, province, kind, cursor)."""
        path = f"/v1/announcements/{_id(announcement_id)}/deliveries"
        params = {k: v for k, v in filters.items() if v}
        return await self.call("metrics", "GET", path, key, params=params)

    # --- who the key is, and the admin's keys and dead letters ------------------------------

    async def identity(self, key: str) -> Identity:
        """The key's name and roles from ingest's keys API: its own entry (GET /v1/keys/me),
        else whether it may list keys (admin: every role); unknown parts stay None."""
        try:
            me = await self.call("ingest", "GET", "/v1/keys/me", key)
        except ApiProblem as problem:
            if problem.status not in (403, 404, 405, 422):
                raise
        else:
            if isinstance(me, dict) and isinstance(me.get("roles"), list):
                return Identity.of(me)
        try:
            await self.call("ingest", "GET", "/v1/keys", key, params={"limit": 1})
        except ApiProblem as problem:
            if problem.status not in (403, 404, 405):
                raise
            return Identity(admin=False)
        return Identity(admin=True, roles=ALL_ROLES)

    async def keys(self, key: str) -> Any:
        return await self.call("ingest", "GET", "/v1/keys", key)

    async def create_key(self, key: str, body: dict[str, Any]) -> Any:
        return await self.call("ingest", "POST", "/v1/keys", key, json=body)

    async def revoke_key(self, key: str, key_id: str) -> Any:
        return await self.call("ingest", "DELETE", f"/v1/keys/{_id(key_id)}", key)

    async def dead_letters(self, key: str, *, limit: int = 100, cursor: str = "") -> Any:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        return await self.call("metrics", "GET", "/v1/dead-letters", key, params=params)

    async def replay(self, key: str, letter_id: str) -> Any:
        path = f"/v1/dead-letters/{_id(letter_id)}/replay"
        return await self.call("metrics", "POST", path, key)

    # --- channels and coverage ---------------------------------------------------------------

    async def channels(self, key: str, **filters: str) -> Any:
        params = {k: v for k, v in filters.items() if v} | {"limit": 10_000}
        return await self.call("router", "GET", "/v1/channels", key, params=params)

    async def channel(self, key: str, channel_id: str) -> Any:
        return await self.call("router", "GET", f"/v1/channels/{_id(channel_id)}", key)

    async def put_channel(self, key: str, channel_id: str, body: dict[str, Any]) -> Any:
        path = f"/v1/channels/{_id(channel_id)}"
        return await self.call("router", "PUT", path, key, json=body)

    async def delete_channel(self, key: str, channel_id: str) -> None:
        await self.call("router", "DELETE", f"/v1/channels/{_id(channel_id)}", key)

    async def coverage(self, key: str) -> Any:
        return await self.call("metrics", "GET", "/v1/coverage", key)
