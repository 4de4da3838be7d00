"""The ingest, router and metrics APIs faked at the HTTP level (an httpx transport), with
the contract's shapes and error bodies, for the console's handler tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from siaran_shared.regions import NATIONAL
from siaran_shared.regions import regions as all_regions

ADMIN_KEY = "admin-key-0123456789"
REGIONAL_KEY = "sulsel-key-0123456789"
KEYS = {ADMIN_KEY: "admin", REGIONAL_KEY: "province:73"}
INGEST, ROUTER, METRICS = "http://ingest.test", "http://router.test", "http://metrics.test"


def error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> httpx.Response:
    body = {"error": {"code": "x", "message": message, "details": details or []}}
    return httpx.Response(status, json=body)


@dataclass
class FakeApis:
    """Enough of the three services for the console: state in dicts, every call recorded."""

    announcements: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    needs_reconnect: set[str] = field(default_factory=set)
    calls: list[httpx.Request] = field(default_factory=list)
    submit_answer: httpx.Response | None = None
    revoked: set[str] = field(default_factory=set)
    on_report: Callable[[], None] | None = None  # called on every report read

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        scope = KEYS.get(token)
        if scope is None or token in self.revoked:
            return error(401, "invalid or revoked API key")
        host = f"{request.url.scheme}://{request.url.host}"
        handler = {INGEST: self.ingest, ROUTER: self.router, METRICS: self.metrics}[host]
        return handler(request, scope)

    def ingest(self, request: httpx.Request, scope: str) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")  # v1 announcements [id [cancel]]
        if request.method == "POST" and len(parts) == 2:
            if self.submit_answer is not None:
                return self.submit_answer
            body = json.loads(request.content)
            announcement_id = body.get("id") or f"a{len(self.announcements) + 1}"
            self.announcements[announcement_id] = body | {
                "id": announcement_id,
                "status": "accepted",
                "submitted_by": scope,
                "accepted_at": "2026-12-01T01:00:00+00:00",
            }
            return httpx.Response(202, json={"id": announcement_id, "status": "accepted"})
        announcement = self.announcements.get(parts[2])
        if announcement is None:
            return error(404, f"no announcement {parts[2]!r}")
        if len(parts) == 4 and parts[3] == "cancel":
            announcement["status"] = "cancelled"
            return httpx.Response(202, json={"id": parts[2], "status": "cancelled"})
        return httpx.Response(200, json=announcement)

    def router(self, request: httpx.Request, scope: str) -> httpx.Response:
        if scope != "admin":
            return error(403, f"this endpoint needs an admin key; key 'k' is {scope}")
        parts = request.url.path.strip("/").split("/")
        if len(parts) == 2:
            items = [c | {"health": {"state": "unknown"}} for c in self.channels.values()]
            return httpx.Response(200, json={"total": len(items), "items": items})
        channel_id = parts[2]
        if request.method == "PUT":
            body = json.loads(request.content)
            if not body.get("endpoint", "").startswith(("https://", "http://")):
                return error(
                    422,
                    "invalid request: check endpoint",
                    [{"field": "endpoint", "message": "unknown endpoint scheme 'ftp'"}],
                )
            created = channel_id not in self.channels
            self.channels[channel_id] = body | {"id": channel_id}
            return httpx.Response(201 if created else 200, json=self.channels[channel_id])
        if channel_id not in self.channels:
            return error(404, f"no channel {channel_id!r}")
        if request.method == "DELETE":
            del self.channels[channel_id]
            return httpx.Response(204)
        state = "needs_reconnect" if channel_id in self.needs_reconnect else "healthy"
        return httpx.Response(200, json=self.channels[channel_id] | {"health": {"state": state}})

    def metrics(self, request: httpx.Request, scope: str) -> httpx.Response:
        path = request.url.path
        if path == "/v1/coverage":
            return httpx.Response(200, json=self.coverage(scope))
        if path == "/v1/announcements":
            items = [self.summary(a) for a in self.announcements.values()]
            return httpx.Response(200, json={"since": "x", "items": items})
        announcement_id = path.split("/")[3]
        if self.on_report is not None:
            self.on_report()
        report = self.reports.get(announcement_id)
        if report is None:
            return error(404, f"no announcement {announcement_id!r} in the ledger (yet)")
        return httpx.Response(200, json=report)

    def coverage(self, scope: str) -> dict[str, Any]:
        """The coverage answer of metrics, cut to the key's scope like metrics does."""

        def in_scope(region: str) -> bool:
            return scope == "admin" or region.split(".")[0] == scope.removeprefix("province:")

        regions: dict[str, Any] = {}
        for c in self.channels.values():
            if c.get("enabled", True) and in_scope(c["region"]):
                kinds = regions.setdefault(c["region"], {"name": c["region"], "kinds": {}})["kinds"]
                kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        every = [r for r in (NATIONAL, *all_regions().by_code) if in_scope(r)]
        reconnect = [
            {"id": i, "region": self.channels[i]["region"], "kind": self.channels[i]["kind"]}
            for i in sorted(self.needs_reconnect)
        ]
        return {
            "regions_total": len(every),
            "regions_covered": len(regions),
            "channels_active": sum(sum(r["kinds"].values()) for r in regions.values()),
            "regions": regions,
            "needs_reconnect": reconnect,
            "regions_without_channels": [{"code": r, "name": r} for r in every if r not in regions],
        }

    def summary(self, announcement: dict[str, Any]) -> dict[str, Any]:
        report = self.reports.get(announcement["id"], {})
        return {
            "id": announcement["id"],
            "title": announcement.get("title"),
            "priority": announcement.get("priority"),
            "accepted_at": announcement["accepted_at"],
            "regions_targeted": 1,
            "planned": report.get("planned", 0),
            "delivered": report.get("delivered", 0),
            "failed": report.get("failed", 0),
            "pending": report.get("pending", 0),
            "cancelled": 0,
            "skipped": 0,
            "expired": 0,
            "announcement_cancelled": announcement["status"] == "cancelled",
            "complete": bool(report.get("complete")),
        }


def report(announcement_id: str, delivered: int, planned: int) -> dict[str, Any]:
    """A metrics report of one province (73) with `delivered` of `planned` channels."""
    pending = planned - delivered
    counts = {"delivered": delivered, "pending": pending, "total": planned}
    return {
        "id": announcement_id,
        "planned": planned,
        "delivered": delivered,
        "failed": 0,
        "pending": pending,
        "cancelled": 0,
        "expired": 0,
        "skipped": 0,
        "regions_targeted": 1,
        "regions_reached": 1 if delivered else 0,
        "by_kind": {"web": counts},
        "by_province": {"73": counts},
        "complete": pending == 0,
        "announcement_cancelled": False,
        "last_delivered_at": "2026-12-01T01:00:05+00:00" if delivered else None,
    }
