"""The registry API as integrators see it: answers in the documented shapes, every status a
route can answer in its OpenAPI, and request schemas that carry the rules the code applies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from siaran_router.app import create_app
from siaran_router.channels import KINDS
from siaran_shared.auth import KeyRing
from siaran_shared.testing import ServiceUnderTest, service_under_test

CHANNEL: dict[str, Any] = {"region": "73.03", "kind": "web", "name": "Diskominfo Bantaeng",
           "endpoint": "https://bantaengkab.go.id/siaran/hook"}  # fmt: skip
#: What each operation can answer besides 401 (no key) and 403 (outside the key's scope).
JSON = {"Content-Type": "application/json"}
STATUSES = {
    ("put", "/v1/channels/{channel_id}"): {"200", "201", "400", "413", "422"},
    ("post", "/v1/channels:import"): {"200", "400", "413", "422"},
    ("get", "/v1/channels"): {"200", "422"},
    ("get", "/v1/channels/{channel_id}"): {"200", "404", "422"},
    ("delete", "/v1/channels/{channel_id}"): {"204", "404", "422"},
}


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path) as sut:
        yield sut


def client(sut: ServiceUnderTest, key: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {key or sut.admin_key}"},
    )


def openapi(sut: ServiceUnderTest) -> dict[str, Any]:
    document: dict[str, Any] = sut.app.openapi()
    return document


def test_every_status_a_route_answers_is_documented_with_a_schema(
    router: ServiceUnderTest,
) -> None:
    paths = openapi(router)["paths"]
    for (method, path), statuses in STATUSES.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses | {"401", "403"}, (method, path)
        for status, response in responses.items():
            if status == "204":
                continue
            schema = response["content"]["application/json"]["schema"]
            if status.startswith("4"):  # the contract's error shape, not FastAPI's own
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
            else:
                assert schema["$ref"].startswith("#/components/schemas/"), (method, path)


def test_request_schema_carries_the_rules_the_code_applies(router: ServiceUnderTest) -> None:
    schema = openapi(router)["components"]["schemas"]["ChannelIn"]["properties"]
    endpoint = schema["endpoint"]
    assert (endpoint["minLength"], endpoint["maxLength"]) == (1, 2048)
    assert re.search(endpoint["pattern"], "") is None  # an empty endpoint: refused by the schema
    assert re.search(endpoint["pattern"], "https://example.go.id/ hook") is None
    assert re.search(endpoint["pattern"], "tgram://{secret:TG_TOKEN}/12345")
    assert set(schema["kind"]["enum"]) == KINDS
    assert re.search(schema["region"]["pattern"], "73.03")
    assert re.search(schema["region"]["pattern"], "ID")
    assert re.search(schema["region"]["pattern"], "Sulawesi") is None


async def test_answers_have_the_documented_shapes(router: ServiceUnderTest) -> None:
    async with client(router) as c:
        created = await c.put("/v1/channels/bantaeng", json=CHANNEL)
        replaced = await c.put("/v1/channels/bantaeng", json=CHANNEL)
        listed = await c.get("/v1/channels")
        one = await c.get("/v1/channels/bantaeng")
        imported = await c.post(
            "/v1/channels:import",
            json={"channels": [CHANNEL | {"id": "bantaeng"}, CHANNEL | {"id": "gowa"}]},
            params={"dry_run": "true"},
        )
    view: dict[str, Any] = CHANNEL | {
        "id": "bantaeng", "tags": [], "enabled": True, "rate_per_minute": None, "secret": None,
        "health": {"state": "unknown"},
    }  # fmt: skip
    assert (created.status_code, created.json()) == (201, view)
    assert (replaced.status_code, replaced.json()) == (200, view)
    assert listed.json() == {"total": 1, "items": [view]}
    assert one.json() == view
    assert imported.json() == {"dry_run": True, "rows": 2, "created": ["gowa"], "updated": [],
                               "unchanged": 1, "removed": []}  # fmt: skip


async def test_undocumented_statuses_are_not_answered(router: ServiceUnderTest) -> None:
    _, national = KeyRing(router.runtime.settings.resolved_api_keys_file).create(
        "ministry", "national"
    )
    async with client(router) as c:
        empty = await c.put("/v1/channels/x", json=CHANNEL | {"endpoint": ""})
        missing = await c.get("/v1/channels/nope")
        gone = await c.delete("/v1/channels/nope")
        bad_page = await c.get("/v1/channels", params={"limit": "0"})
        bad_id = await c.get("/v1/channels/no spaces")
        not_json = await c.post("/v1/channels:import", content=b"\xff", headers=JSON)
        number = await c.put("/v1/channels/x", json=CHANNEL | {"enabled": 0})
        options = await c.options("/v1/channels/x")
    async with client(router, key="not-a-key") as c:
        anonymous = await c.get("/v1/channels")
    async with client(router, key=national) as c:
        not_admin = await c.get("/v1/channels")  # national publishes; it does not run channels
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["field"] == "endpoint"
    assert (missing.status_code, gone.status_code) == (404, 404)
    assert (bad_page.status_code, bad_id.status_code, not_json.status_code) == (422, 422, 400)
    assert number.status_code == 422  # the schema says boolean
    assert (options.status_code, options.headers["Allow"]) == (405, "DELETE, GET, PUT")
    assert (anonymous.status_code, not_admin.status_code) == (401, 403)
