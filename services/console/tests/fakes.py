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

from services.console.tests.fake_previews import error, preview_answer

ADMIN_KEY = "admin-key-0123456789"
REGIONAL_KEY = "sulsel-key-0123456789"
WRITER_KEY = "writer-key-0123456789"
EDITOR_KEY = "editor-key-0123456789"
KEYS = {
    ADMIN_KEY: "admin",
    REGIONAL_KEY: "province:73",
    WRITER_KEY: "national",
    EDITOR_KEY: "national",
}
#: name and roles of each key, as ingest's keys API gives them
IDENTITIES = {
    ADMIN_KEY: ("admin", ["publish", "draft", "approve"]),
    REGIONAL_KEY: ("sulsel", ["publish"]),
    WRITER_KEY: ("writer", ["draft"]),
    EDITOR_KEY: ("editor", ["approve"]),
}
INGEST, ROUTER, METRICS = "http://ingest.test", "http://router.test", "http://metrics.test"


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
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dead: dict[str, dict[str, Any]] = field(default_factory=dict)
    replayed: list[str] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_routes: set[str] = field(default_factory=set)  # e.g. "list", "me", "deliveries"
    preview_answer: httpx.Response | None = None

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
        parts = request.url.path.strip("/").split("/")  # v1 announcements|keys [id [action]]
        token = request.headers["authorization"].removeprefix("Bearer ")
        if parts[1] == "keys":
            return self.key_api(request, parts, token)
        if request.method == "GET" and len(parts) == 2:
            if "list" in self.missing_routes:
                return error(405, "Method Not Allowed")
            wanted = request.url.params.get("status")
            items = [a for a in self.announcements.values() if a["status"] == wanted]
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        if request.method == "POST" and len(parts) == 2:
            if self.submit_answer is not None:
                return self.submit_answer
            body = json.loads(request.content)
            name, roles = IDENTITIES[token]
            status = "accepted" if "publish" in roles else "pending_approval"
            status = "draft" if body.pop("draft", False) else status
            announcement_id = body.get("id") or f"a{len(self.announcements) + 1}"
            self.announcements[announcement_id] = body | {
                "id": announcement_id,
                "status": status,
                "revision": 1,
                "submitted_by": name,
                "accepted_at": "2026-12-01T01:00:00+00:00",
            }
            return httpx.Response(
                201 if status == "draft" else 202, json={"id": announcement_id, "status": status}
            )
        announcement = self.announcements.get(parts[2])
        if announcement is None:
            return error(404, f"no announcement {parts[2]!r}")
        if request.method == "PUT":
            return self.replace(announcement, json.loads(request.content))
        if len(parts) == 4:
            return self.step(announcement, parts[3], token, request)
        return httpx.Response(200, json=announcement)

    def replace(self, announcement: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        if not body.get("title", "").strip():
            return error(422, "invalid announcement: check title",
                         [{"field": "title", "message": "must not be empty"}])  # fmt: skip
        if announcement["status"] == "accepted":
            announcement["revision"] += 1
        else:
            announcement["status"] = "draft"
        announcement.update(body)
        answer = {"id": announcement["id"], "status": announcement["status"],
                  "revision": announcement["revision"]}  # fmt: skip
        return httpx.Response(202, json=answer)

    def step(
        self, announcement: dict[str, Any], action: str, token: str, request: httpx.Request
    ) -> httpx.Response:
        name, roles = IDENTITIES[token]
        if action == "cancel":
            announcement["status"] = "cancelled"
            return httpx.Response(202, json={"id": announcement["id"], "status": "cancelled"})
        if action in ("approve", "reject"):
            if "approve" not in roles:
                return error(403, f"key {name!r} may not {action}: it needs the approve role")
            if announcement["submitted_by"] == name:
                return error(403, f"key {name!r} submitted it and may not {action} it too")
        if action == "reject":
            reason = json.loads(request.content or b"{}").get("reason")
            if not reason:
                return error(422, "invalid request: check reason",
                             [{"field": "reason", "message": "Field required"}])  # fmt: skip
            announcement["history"] = [{"at": "2026-12-01T01:00:00Z", "by": name,
                                        "action": "reject", "reason": reason}]  # fmt: skip
        moved = {"approve": "accepted", "reject": "rejected", "submit": "pending_approval"}
        announcement["status"] = moved[action]
        return httpx.Response(202, json={"id": announcement["id"], "status": moved[action]})

    def key_api(self, request: httpx.Request, parts: list[str], token: str) -> httpx.Response:
        name, roles = IDENTITIES[token]
        if parts[2:] == ["me"]:
            if "me" in self.missing_routes:
                return error(404, "Not Found")
            return httpx.Response(200, json={"id": name, "name": name, "scope": KEYS[token],
                                             "roles": roles})  # fmt: skip
        if KEYS[token] != "admin":
            return error(403, "this endpoint needs an admin key")
        if request.method == "POST":
            body = json.loads(request.content)
            if not body.get("name"):
                return error(422, "invalid key: check name",
                             [{"field": "name", "message": "must not be empty"}])  # fmt: skip
            key_id = f"k{len(self.keys) + 1}"
            self.keys[key_id] = body | {"id": key_id, "created_at": "2026-12-01T01:00:00Z",
                                        "revoked_at": None}  # fmt: skip
            return httpx.Response(201, json=self.keys[key_id] | {"key": f"sk-new-{key_id}"})
        if request.method == "DELETE":
            self.keys[parts[2]]["revoked_at"] = "2026-12-01T02:00:00Z"
            return httpx.Response(204)
        return httpx.Response(200, json={"items": list(self.keys.values())})

    def router(self, request: httpx.Request, scope: str) -> httpx.Response:
        if request.url.path == "/v1/previews":
            return self.preview(json.loads(request.content))
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

    def preview(self, body: dict[str, Any]) -> httpx.Response:
        return self.preview_answer or preview_answer(body)

    def metrics(self, request: httpx.Request, scope: str) -> httpx.Response:
        path = request.url.path
        if path.startswith("/v1/dead-letters"):
            return self.dead_letters(request, scope)
        if path.endswith("/deliveries"):
            if "deliveries" in self.missing_routes:
                return error(404, "Not Found")
            wanted = request.url.params.get("status")
            items = [d for d in self.deliveries.get(path.split("/")[3], [])
                     if d["status"] == wanted]  # fmt: skip
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        if path == "/v1/coverage":
            return httpx.Response(200, json=self.coverage(scope))
        if path == "/v1/announcements":  # `region`: those whose target reaches it
            region = request.url.params.get("region", "")
            items = [self.summary(a) for a in self.announcements.values() if reaches(a, region)]
            return httpx.Response(200, json={"since": "x", "items": items})
        announcement_id = path.split("/")[3]
        if self.on_report is not None:
            self.on_report()
        report = self.reports.get(announcement_id)
        if report is None:
            return error(404, f"no announcement {announcement_id!r} in the ledger (yet)")
        return httpx.Response(200, json=report)

    def dead_letters(self, request: httpx.Request, scope: str) -> httpx.Response:
        if scope != "admin":
            return error(403, "this endpoint needs an admin key")
        if request.method == "POST":
            self.replayed.append(request.url.path.split("/")[3])
            return httpx.Response(202, json={"status": "replayed"})
        return httpx.Response(200, json={"items": list(self.dead.values()), "next_cursor": None})

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


def reaches(announcement: dict[str, Any], region: str) -> bool:
    codes = [*announcement.get("target", {}).get("provinces", []),
             *announcement.get("target", {}).get("regencies", [])]  # fmt: skip
    return not region or any(c in (region, region.partition(".")[0]) or
                             c.startswith(f"{region}.") for c in codes)  # fmt: skip
