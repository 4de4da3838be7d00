"""GET /v1/keys/me: a key learns its own name, scope and roles, never its value."""

from __future__ import annotations

from services.ingest.tests.conftest import Kit


async def test_a_key_reads_its_own_roles_and_never_its_value(kit: Kit) -> None:
    writer = kit.key("penulis", "province:73", "draft")
    async with kit.client(writer) as client:
        answer = await client.get("/v1/keys/me")
    assert answer.status_code == 200
    me = answer.json()
    assert (me["name"], me["scope"], me["roles"]) == ("penulis", "province:73", ["draft"])
    assert writer not in answer.text
    async with kit.client() as admin:
        assert (await admin.get("/v1/keys/me")).json()["roles"] == ["publish", "draft", "approve"]
    async with kit.anonymous() as anonymous:
        assert (await anonymous.get("/v1/keys/me")).status_code == 401
    kit.revoke("penulis")
    async with kit.client(writer) as client:
        assert (await client.get("/v1/keys/me")).status_code == 401
