"""A 405's Allow names the methods of the resource asked for: a path written out in full is
its own resource, even where a templated path of another also fits it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from siaran_shared.http import _install_error_handlers


def app() -> FastAPI:
    api = FastAPI()
    _install_error_handlers(api)

    @api.get("/v1/keys/me")
    async def me() -> dict[str, str]:
        return {"name": "me"}

    @api.get("/v1/keys/{key_id}")
    async def one(key_id: str) -> dict[str, str]:
        return {"id": key_id}

    @api.delete("/v1/keys/{key_id}")
    async def revoke(key_id: str) -> dict[str, str]:
        return {"id": key_id}

    return api


async def options(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.options(path)


async def test_a_literal_path_allows_only_its_own_methods() -> None:
    response = await options("/v1/keys/me")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


async def test_a_templated_path_allows_every_method_its_routes_answer() -> None:
    response = await options("/v1/keys/k-1")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
