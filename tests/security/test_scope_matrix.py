"""Every scope against every kind of target: a key reaches exactly the regions it may."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import pytest
from siaran_shared.auth import Scope
from siaran_shared.regions import regions, select_regions
from siaran_shared.testing import ServiceUnderTest

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
