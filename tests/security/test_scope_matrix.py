"""Every scope against every kind of target: a key reaches exactly the regions it may."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from siaran_metrics.app import create_app as create_metrics
from siaran_shared.auth import ROLES, KeyRing, Scope
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    Channel,
    ChannelConfigured,
    Event,
    Target,
    utcnow,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNELS, DLQ, INBOUND
from siaran_shared.messaging import ce_headers
from siaran_shared.regions import NATIONAL, regions, select_regions
from siaran_shared.testing import ServiceUnderTest, service_under_test

from tests.security.conftest import client, key_for

SCOPES = ["national", "admin", "province:73", "province:31", "regency:73.03", "regency:31.71"]
TARGETS: list[dict[str, object]] = [
    {"national": True},
    {"provinces": ["73"]},
    {"provinces": ["31"]},
    {"provinces": ["73", "31"]},
    {"regencies": ["73.03"]},
    {"regencies": ["73.04"]},
    {"regencies": ["31.71"]},
    {"regencies": ["73.03", "31.71"]},
    {"provinces": ["73"], "regencies": ["73.03"]},
    {"zones": ["WITA"]},
    {"zones": ["WIB"]},
    {"zones": ["WIT"]},
    {"regencies": ["73.03"], "kinds": ["web"], "tags": ["official"]},
    {"national": True, "kinds": ["x"]},
]


def allowed(scope: str, target: dict[str, object]) -> bool:
    """The rule, stated independently: every selected region within the scope."""
    s = Scope.parse(scope)
    if s.is_national:
        return True
    if target.get("national"):
        return False
    selected = select_regions(
        provinces=target.get("provinces", ()),  # type: ignore[arg-type]
        regencies=target.get("regencies", ()),  # type: ignore[arg-type]
        zones=target.get("zones", ()),  # type: ignore[arg-type]
    )
    if s.kind == "province":
        return all(regions().province_of(r) == s.region for r in selected)
    return selected == {s.region}


async def test_scope_by_target_matrix_has_no_bypass(
    ingest: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    keys = {scope: key_for(ingest, scope) for scope in SCOPES}
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope, target in itertools.product(SCOPES, TARGETS):
        body = {"id": f"m-{uuid.uuid4().hex[:10]}", "title": "T", "body": "B", "target": target}
        async with client(ingest, keys[scope]) as c:
            r = await c.post("/v1/announcements", json=body)
        assert r.status_code in (202, 403), (scope, target, r.status_code, r.text)
        if r.status_code == 202 and not allowed(scope, target):
            bypasses.append(f"{scope} → {target}")
        if r.status_code == 403:
            if allowed(scope, target):
                wrongly_refused.append(f"{scope} → {target}")
            assert "may not target" in r.json()["error"]["message"]
    proof(
        "security: scope x target matrix",
        cases=len(SCOPES) * len(TARGETS),
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


async def test_list_and_replace_matrix_has_no_bypass(
    ingest: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    """GET /v1/announcements lists, and PUT replaces, only what lies inside the key's scope;
    a replacement's new target is checked like a submission's."""
    admin = key_for(ingest, "admin", "ministry")
    ids = [f"lr-{i}" for i in range(len(TARGETS))]
    async with client(ingest, admin) as c:
        for announcement_id, target in zip(ids, TARGETS, strict=True):
            body = {"id": announcement_id, "title": "T", "body": "B", "target": target}
            assert (await c.post("/v1/announcements", json=body)).status_code == 202
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope in SCOPES:
        async with client(ingest, key_for(ingest, scope)) as c:
            listed = await c.get("/v1/announcements", params={"limit": 200})
            in_list = {item["id"] for item in listed.json()["items"]}
            own = None
            for announcement_id, target in zip(ids, TARGETS, strict=True):
                body = {"title": f"T {scope}", "body": "B", "target": target}
                r = await c.put(f"/v1/announcements/{announcement_id}", json=body)
                assert r.status_code in (202, 404), (scope, target, r.status_code, r.text)
                may = allowed(scope, target)
                own = own or (announcement_id if may else None)
                if (r.status_code == 202 or announcement_id in in_list) and not may:
                    bypasses.append(f"{scope} lists or replaces {target}")
                if (r.status_code == 404 or announcement_id not in in_list) and may:
                    wrongly_refused.append(f"{scope} lists or replaces {target}")
            for target in TARGETS if own else ():
                body = {"title": "moved", "body": "B", "target": target}
                r = await c.put(f"/v1/announcements/{own}", json=body)
                if r.status_code == 202 and not allowed(scope, target):
                    bypasses.append(f"{scope} moves an announcement to {target}")
                if r.status_code == 403 and allowed(scope, target):
                    wrongly_refused.append(f"{scope} moves an announcement to {target}")
                if r.status_code == 202:  # moved: put it back for the next target
                    back = {"title": "back", "body": "B", "target": TARGETS[ids.index(own)]}
                    assert (await c.put(f"/v1/announcements/{own}", json=back)).status_code == 202
    proof(
        "security: list and replace (PUT) x scope matrix",
        cases=len(SCOPES) * len(TARGETS) * 2,
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


@pytest.mark.parametrize("scope", ["province:73", "regency:73.03"])
async def test_cancel_and_read_outside_scope_are_not_found(
    ingest: ServiceUnderTest, scope: str
) -> None:
    national = key_for(ingest, "national", "ministry")
    async with client(ingest, national) as c:
        r = await c.post(
            "/v1/announcements",
            json={"id": "jakarta-only", "title": "T", "body": "B",
                  "target": {"provinces": ["31"]}},
        )  # fmt: skip
        assert r.status_code == 202
    limited = key_for(ingest, scope)
    async with client(ingest, limited) as c:
        assert (await c.get("/v1/announcements/jakarta-only")).status_code == 404
        assert (await c.post("/v1/announcements/jakarta-only/cancel")).status_code == 404


async def test_revoked_key_is_refused_at_once(ingest: ServiceUnderTest) -> None:
    from siaran_shared.auth import KeyRing

    ring = KeyRing(ingest.runtime.settings.resolved_api_keys_file)
    _, token = ring.create("short-lived", "national")
    body = {"title": "T", "body": "B", "target": {"provinces": ["73"]}}
    async with client(ingest, token) as c:
        assert (await c.post("/v1/announcements", json=body)).status_code == 202
        ring.revoke("short-lived")
        r = await c.post("/v1/announcements", json=body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


# --- reads in metrics: reports, the recent list and coverage ----------------------------------


@pytest.fixture
async def metrics(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_metrics, tmp_path) as sut:
        yield sut


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


def target_of(fields: dict[str, Any]) -> Target:
    return Target(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


async def test_metrics_reads_are_scoped_with_no_bypass(
    metrics: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    ids = [f"read-{i}" for i in range(len(TARGETS))]
    for announcement_id, target in zip(ids, TARGETS, strict=True):
        announcement = Announcement(
            id=announcement_id, title="T", body="B", target=target_of(target)
        )
        accepted = AnnouncementAccepted(
            announcement=announcement, accepted_at=utcnow(), submitted_by="ministry"
        )
        await send(metrics, ANNOUNCEMENTS, accepted, announcement_id)
    for region in ("73.03", "31.71", NATIONAL):
        channel = Channel(id=f"web-{region}", region=region, kind="web", name=region,
                          endpoint=f"https://example.go.id/{region}")  # fmt: skip
        await send(metrics, CHANNELS, ChannelConfigured(channel=channel), channel.id)
    keys = {scope: key_for(metrics, scope) for scope in SCOPES}
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope in SCOPES:
        async with client(metrics, keys[scope]) as c:
            listed = await c.get("/v1/announcements", params={"since": "2000-01-01T00:00:00Z"})
            assert listed.status_code == 200, listed.text
            in_list = {item["id"] for item in listed.json()["items"]}
            for announcement_id, target in zip(ids, TARGETS, strict=True):
                r = await c.get(f"/v1/announcements/{announcement_id}/report")
                assert r.status_code in (200, 403), (scope, target, r.status_code, r.text)
                may = allowed(scope, target)
                if (r.status_code == 200 or announcement_id in in_list) and not may:
                    bypasses.append(f"{scope} reads {target}")
                if (r.status_code == 403 or announcement_id not in in_list) and may:
                    wrongly_refused.append(f"{scope} reads {target}")
            coverage = (await c.get("/v1/coverage")).json()
        shown = {*coverage["regions"], *(r["code"] for r in coverage["regions_without_channels"])}
        parsed = Scope.parse(scope)
        bypasses.extend(f"{scope} sees coverage of {r}" for r in shown if not parsed.covers(r))
        hidden = [r for r in (NATIONAL, *regions().by_code) if parsed.covers(r) and r not in shown]
        wrongly_refused.extend(f"{scope} misses coverage of {r}" for r in hidden)
    proof(
        "security: scoped reads (metrics report, list, coverage)",
        cases=len(SCOPES) * (len(TARGETS) + 1),
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


# --- the channel registry in the router: self-service within the scope -----------------------

REGISTRY_REGIONS = ["73", "73.03", "73.04", "31", "31.71", NATIONAL]


def may_manage(scope: str, region: str) -> bool:
    """The rule, stated independently: admin everything; a province its own code and its
    regencies; a regency itself; national keys publish but do not run the registry."""
    s = Scope.parse(scope)
    if s.kind == "admin":
        return True
    if s.kind == "province":
        return region != NATIONAL and regions().province_of(region) == s.region
    return s.kind == "regency" and region == s.region


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    from siaran_router.app import create_app as create_router

    async with service_under_test(create_router, tmp_path) as sut:
        yield sut


async def registry_attempts(c: Any, region: str, cid: str, may: bool) -> dict[str, int]:
    """Every registry action of one key on one region's channel, with its status (a key that
    may manage the region deletes the channel it created, any other tries the existing one)."""
    body = {"region": region, "kind": "web", "name": cid, "endpoint": f"https://ex.go.id/{cid}"}
    return {
        "put": (await c.put(f"/v1/channels/{cid}-new", json=body)).status_code,
        "replace": (await c.put(f"/v1/channels/{cid}", json=body)).status_code,
        "get": (await c.get(f"/v1/channels/{cid}")).status_code,
        "list": (await c.get("/v1/channels", params={"region": region})).status_code,
        "delete": (
            await c.delete(f"/v1/channels/{cid}-new" if may else f"/v1/channels/{cid}")
        ).status_code,
    }


async def test_registry_scope_matrix_has_no_bypass(
    router: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    admin = router.admin_key
    ids = {region: "ch-" + region.replace(".", "-") for region in REGISTRY_REGIONS}
    async with client(router, admin) as c:
        for region, cid in ids.items():
            body = {"region": region, "kind": "web", "name": cid,
                    "endpoint": f"https://ex.go.id/{cid}"}  # fmt: skip
            assert (await c.put(f"/v1/channels/{cid}", json=body)).status_code == 201
    keys = {scope: key_for(router, scope) for scope in SCOPES}
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope, (region, cid) in itertools.product(SCOPES, ids.items()):
        async with client(router, keys[scope]) as c:
            statuses = await registry_attempts(c, region, cid, may_manage(scope, region))
            listed = (await c.get("/v1/channels")).json() if may_manage(scope, region) else None
        may = may_manage(scope, region)
        for action, status in statuses.items():
            assert status in (200, 201, 204, 403), (scope, region, action, status)
            if status != 403 and not may:
                bypasses.append(f"{scope} {action} {region}")
            if status == 403 and may:
                wrongly_refused.append(f"{scope} {action} {region}")
        if listed is not None:
            seen = {item["region"] for item in listed["items"]}
            bypasses.extend(f"{scope} lists {r}" for r in seen if not may_manage(scope, r))
    async with client(router, admin) as c:
        left = {i["id"] for i in (await c.get("/v1/channels")).json()["items"]}
    assert left == set(ids.values())  # every refused delete left its channel in place
    proof(
        "security: registry scope x region matrix",
        cases=len(SCOPES) * len(REGISTRY_REGIONS) * 6,
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


async def test_preview_scope_by_target_matrix_has_no_bypass(
    router: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    keys = {scope: key_for(router, scope) for scope in SCOPES}
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope, target in itertools.product(SCOPES, TARGETS):
        async with client(router, keys[scope]) as c:
            r = await c.post("/v1/previews", json={"title": "T", "body": "B", "target": target})
        assert r.status_code in (200, 403), (scope, target, r.status_code, r.text)
        if r.status_code == 200 and not allowed(scope, target):
            bypasses.append(f"{scope} previews {target}")
        if r.status_code == 403:
            if allowed(scope, target):
                wrongly_refused.append(f"{scope} previews {target}")
            assert "may not target" in r.json()["error"]["message"]
    proof(
        "security: preview scope x target matrix",
        cases=len(SCOPES) * len(TARGETS),
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


# --- admin routes: keys (ingest) and dead letters (metrics) -----------------------------------


def key_with_every_role(sut: ServiceUnderTest, scope: str) -> str:
    """A key of `scope` holding every role: roles must never stand in for the admin scope."""
    ring = KeyRing(sut.runtime.settings.resolved_api_keys_file)
    return ring.create(f"all-roles-{scope.replace(':', '-')}", scope, ROLES)[1]


async def test_key_routes_admit_only_admin_keys(
    ingest: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    ring = KeyRing(ingest.runtime.settings.resolved_api_keys_file)
    victim, _ = ring.create("victim", "national")
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for scope in SCOPES:
        may = Scope.parse(scope).is_admin
        target = ring.create(f"target-{uuid.uuid4().hex[:6]}", "national")[0] if may else victim
        async with client(ingest, key_with_every_role(ingest, scope)) as c:
            new = {"name": f"by-{scope.replace(':', '-')}", "scope": "admin"}
            statuses = {
                "list": (await c.get("/v1/keys")).status_code,
                "create": (await c.post("/v1/keys", json=new)).status_code,
                "revoke": (await c.delete(f"/v1/keys/{target.id}")).status_code,
            }
        for action, status in statuses.items():
            assert status in (200, 201, 403), (scope, action, status)
            if status != 403 and not may:
                bypasses.append(f"{scope} {action} keys")
            if status == 403 and may:
                wrongly_refused.append(f"{scope} {action} keys")
    keys = {k.name: k for k in ring.all_keys()}
    assert keys["victim"].revoked_at is None  # no refused revocation took effect
    assert {n for n in keys if n.startswith("by-")} == {"by-admin"}
    proof(
        "security: keys API x scope matrix",
        cases=len(SCOPES) * 3,
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


async def test_dead_letter_routes_admit_only_admin_keys(
    tmp_path: Path, proof: Callable[..., None]
) -> None:
    async with service_under_test(create_metrics, tmp_path, observe=(INBOUND,)) as metrics:
        headers = {"siaran-error": "invalid: x", "siaran-origin-topic": INBOUND}
        await metrics.publish(DLQ, b"{}", key="k", headers=headers)
        async with client(metrics, metrics.admin_key) as c:
            [letter] = (await c.get("/v1/dead-letters")).json()["items"]
        bypasses: list[str] = []
        wrongly_refused: list[str] = []
        for scope in SCOPES:
            may = Scope.parse(scope).is_admin
            async with client(metrics, key_with_every_role(metrics, scope)) as c:
                path = f"/v1/dead-letters/{letter['id']}"
                statuses = {
                    "list": (await c.get("/v1/dead-letters")).status_code,
                    "read": (await c.get(path)).status_code,
                    "replay": (await c.post(f"{path}/replay?force=true")).status_code,
                }
            for action, status in statuses.items():
                assert status in (200, 403), (scope, action, status)
                if status != 403 and not may:
                    bypasses.append(f"{scope} {action} dead letters")
                if status == 403 and may:
                    wrongly_refused.append(f"{scope} {action} dead letters")
        admins = sum(Scope.parse(s).is_admin for s in SCOPES)
        assert len(metrics.seen[INBOUND]) == admins  # only admin replays were produced
    proof(
        "security: dead letters API x scope matrix",
        cases=len(SCOPES) * 3,
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []
