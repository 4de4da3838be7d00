"""The keys API: admin only; a created key works at once and is shown once; a revoked one is
refused from the next request; bad input is a 422 naming the field."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest
from siaran_shared.auth import KeyRing

from services.ingest.tests.conftest import Kit, announcement


def ring(kit: Kit) -> KeyRing:
    return KeyRing(kit.sut.runtime.settings.resolved_api_keys_file)


async def test_created_key_works_is_shown_once_and_stored_only_as_a_hash(kit: Kit) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/keys", json={"name": "sulsel editor", "scope": "province:73",
                                           "roles": ["approve", "draft"]})  # fmt: skip
        assert r.status_code == 201, r.text
        created = r.json()
        listed = (await c.get("/v1/keys")).json()["items"]
    token = created["key"]
    assert created["scope"] == "province:73"
    assert created["roles"] == ["draft", "approve"]  # canonical order
    assert created["revoked_at"] is None
    stored = ring(kit).all_keys()
    assert created["id"] in {k.id for k in stored}
    keys_file = kit.sut.runtime.settings.resolved_api_keys_file
    assert token not in keys_file.read_text()
    assert stat.S_IMODE(os.stat(keys_file).st_mode) == 0o600
    # never again: not in the list, neither the value nor the hash
    mine = next(item for item in listed if item["id"] == created["id"])
    assert set(mine) == {"id", "name", "scope", "roles", "created_at", "revoked_at"}
    assert token not in json.dumps(listed)
    assert all(k.hash not in json.dumps(listed) for k in stored)
    async with kit.client(token) as c:  # draft and approve, no publish: waits for approval
        r = await c.post("/v1/announcements", json=announcement("k-1"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_approval"


async def test_revoked_key_is_refused_at_once(kit: Kit) -> None:
    async with kit.client() as c:
        created = (await c.post("/v1/keys", json={"name": "short", "scope": "national"})).json()
        async with kit.client(created["key"]) as user:
            assert (
                await user.post("/v1/announcements", json=announcement("r-1"))
            ).status_code == 202
            r = await c.delete(f"/v1/keys/{created['id']}")
            assert r.status_code == 200, r.text
            assert r.json()["revoked_at"] is not None
            refused = await user.post("/v1/announcements", json=announcement("r-2"))
        assert refused.status_code == 401
        assert (await c.delete(f"/v1/keys/{created['id']}")).status_code == 409  # already
        assert (await c.delete("/v1/keys/0123456789ab")).status_code == 404
        listed = {i["id"]: i for i in (await c.get("/v1/keys")).json()["items"]}
    assert listed[created["id"]]["revoked_at"] is not None


async def test_revoking_by_id_never_touches_a_key_named_like_that_id(kit: Kit) -> None:
    async with kit.client() as c:
        target = (await c.post("/v1/keys", json={"name": "target", "scope": "national"})).json()
        decoy = {"name": target["id"], "scope": "national"}
        other = (await c.post("/v1/keys", json=decoy)).json()
        assert (await c.delete(f"/v1/keys/{target['id']}")).status_code == 200
    active = {k.id for k in ring(kit).all_keys() if k.revoked_at is None}
    assert other["id"] in active
    assert target["id"] not in active


async def test_the_last_active_admin_key_cannot_be_revoked(kit: Kit) -> None:
    [admin] = [k for k in ring(kit).all_keys() if k.parsed_scope.is_admin]
    async with kit.client() as c:
        r = await c.delete(f"/v1/keys/{admin.id}")
        assert r.status_code == 409
        assert "last active admin key" in r.json()["error"]["message"]
        second = (await c.post("/v1/keys", json={"name": "ops-2", "scope": "admin"})).json()
        assert (await c.delete(f"/v1/keys/{admin.id}")).status_code == 200
    async with kit.client(second["key"]) as c:
        assert (await c.get("/v1/keys")).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scope": "province:99"}, "scope"),
        ({"name": "x", "scope": "galaxy"}, "scope"),
        ({"name": "x", "scope": "national", "roles": ["superuser"]}, "roles"),
        ({"name": "", "scope": "national"}, "name"),
        ({"name": "bad\nname", "scope": "national"}, "name"),
        ({"scope": "national"}, "name"),
        ({"name": "x", "scope": "national", "extra": 1}, "extra"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field(
    kit: Kit, body: dict[str, object], field: str
) -> None:
    before = len(ring(kit).all_keys())
    async with kit.client() as c:
        r = await c.post("/v1/keys", json=body)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == [field]
    assert len(ring(kit).all_keys()) == before


async def test_a_duplicate_active_name_is_a_409_and_a_revoked_name_may_be_reused(kit: Kit) -> None:
    async with kit.client() as c:
        first = await c.post("/v1/keys", json={"name": "dup", "scope": "national"})
        again = await c.post("/v1/keys", json={"name": "dup", "scope": "regency:73.03"})
        assert again.status_code == 409
        assert again.json()["error"]["details"][0]["field"] == "name"
        await c.delete(f"/v1/keys/{first.json()['id']}")
        assert (
            await c.post("/v1/keys", json={"name": "dup", "scope": "national"})
        ).status_code == 201


@pytest.mark.parametrize("scope", ["national", "province:73", "regency:73.03"])
async def test_non_admin_keys_are_refused(kit: Kit, scope: str) -> None:
    token = kit.key(f"user-{scope}", scope, "publish", "approve")
    target = ring(kit).all_keys()[0].id
    async with kit.client(token) as c:
        statuses = [
            (await c.get("/v1/keys")).status_code,
            (await c.post("/v1/keys", json={"name": "mine", "scope": "admin"})).status_code,
            (await c.delete(f"/v1/keys/{target}")).status_code,
        ]
    assert statuses == [403, 403, 403]
    assert all(k.revoked_at is None for k in ring(kit).all_keys())
    assert "mine" not in {k.name for k in ring(kit).all_keys()}


async def test_a_read_only_keys_file_is_a_503_saying_what_to_do(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*_: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(KeyRing, "_write", read_only)  # as on a read-only mount
    async with kit.client() as c:
        created = await c.post("/v1/keys", json={"name": "ro", "scope": "national"})
    assert created.status_code == 503
    assert created.json()["error"]["code"] == "keys_read_only"
    assert "siaran keys" in created.json()["error"]["message"]


def test_every_status_a_key_route_answers_is_documented_as_the_error_shape(kit: Kit) -> None:
    paths = kit.sut.app.openapi()["paths"]
    expected = {
        ("get", "/v1/keys"): {"200", "401", "403"},
        ("post", "/v1/keys"): {"201", "400", "401", "403", "409", "413", "422", "503"},
        ("delete", "/v1/keys/{key_id}"): {"200", "401", "403", "404", "409", "422", "503"},
    }
    for (method, path), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status, response in responses.items():
            schema = response["content"]["application/json"]["schema"]
            if status.startswith(("4", "5")):
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
    created = paths["/v1/keys"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/KeyCreated"}
