"""The editorial workflow's steps against every scope and every kind of target: a key reads,
submits, approves and rejects only announcements whose whole target lies inside its scope
(outside, the announcement is not found: its existence is not revealed either), whatever
roles it holds; and `GET /v1/keys/me` tells each key its own scope and roles, never a value."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from siaran_shared.auth import ROLES, KeyRing
from siaran_shared.testing import ServiceUnderTest

from tests.security.conftest import client
from tests.security.test_scope_matrix import SCOPES, TARGETS, allowed

#: step → (method, path under the announcement, the status it answers inside the scope)
STEPS = {
    "read draft": ("GET", "", 200),
    "submit": ("POST", "/submit", 202),
    "approve": ("POST", "/approve", 202),
    "reject": ("POST", "/reject", 200),
}


async def test_workflow_steps_by_scope_and_target_have_no_bypass(
    ingest: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    ring = KeyRing(ingest.runtime.settings.resolved_api_keys_file)
    keys = {s: ring.create(f"every-role-{s.replace(':', '-')}", s, ROLES)[1] for s in SCOPES}
    cases = list(itertools.product(SCOPES, enumerate(TARGETS)))
    for scope in SCOPES:  # a writer per scope: each within its own request rate
        _, writer = ring.create(f"writer-{scope.replace(':', '-')}", "national", ["draft"])
        async with client(ingest, writer) as c:  # its submissions wait for approval
            for (t, target), step in itertools.product(enumerate(TARGETS), STEPS):
                body = {"id": _id(scope, t, step), "title": "T", "body": "B", "target": target}
                body |= {"draft": True} if step in ("read draft", "submit") else {}
                r = await c.post("/v1/announcements", json=body)
                assert r.status_code in (201, 202), r.text
    bypasses: list[str] = []
    wrongly_refused: list[str] = []
    for (scope, (t, target)), (step, (method, path, ok)) in itertools.product(cases, STEPS.items()):
        url = f"/v1/announcements/{_id(scope, t, step)}{path}"
        async with client(ingest, keys[scope]) as c:
            json = {"reason": "Data belum diverifikasi"} if step == "reject" else None
            r = await c.request(method, url, json=json)
        assert r.status_code in (ok, 404), (scope, target, step, r.status_code, r.text)
        if r.status_code == ok and not allowed(scope, target):
            bypasses.append(f"{scope} {step} {target}")
        if r.status_code == 404 and allowed(scope, target):
            wrongly_refused.append(f"{scope} {step} {target}")
    proof(
        "security: workflow steps (read draft, submit, approve, reject) x scope x target",
        cases=len(cases) * len(STEPS),
        bypasses=len(bypasses),
        wrongly_refused=len(wrongly_refused),
    )
    assert bypasses == []
    assert wrongly_refused == []


async def test_keys_me_tells_each_key_its_own_scope_and_roles_only(
    ingest: ServiceUnderTest,
) -> None:
    ring = KeyRing(ingest.runtime.settings.resolved_api_keys_file)
    for scope, roles in itertools.product(SCOPES, (["publish"], ["draft"], ["approve"])):
        name = f"me-{scope.replace(':', '-')}-{roles[0]}"
        key, token = ring.create(name, scope, roles)
        async with client(ingest, token) as c:
            r = await c.get("/v1/keys/me")
        assert r.status_code == 200, r.text
        expected = list(ROLES) if scope == "admin" else roles
        assert r.json() == {"id": key.id, "name": name, "scope": scope, "roles": expected}
        assert token not in r.text


def _id(scope: str, target: int, step: str) -> str:
    return f"wf-{scope.replace(':', '-').replace('.', '-')}-{target}-{step.replace(' ', '-')}"
