"""Channel endpoints cannot aim the publisher at link-local or cloud metadata addresses
(server-side request forgery) or smuggle headers, unless an operator allow-lists them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from siaran_router.app import create_app
from siaran_shared.testing import ServiceUnderTest, service_under_test
from siaran_shared.testing.credentials import RAW

HOSTILE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "https://metadata.google.internal/computeMetadata/v1/",
    "http://[::ffff:169.254.169.254]/",
    "json://169.254.169.254/x",
    # 169.254.169.254 written so that resolvers still read it, but a plain parser does not
    "http://2852039166/latest/meta-data/",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://169.254.43518/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "json://2852039166/x",
    "https://example.go.id/hook\r\nX-Injected: 1",
    "https://example.go.id/ hook",
]


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path) as sut:
        yield sut


async def put(sut: ServiceUnderTest, endpoint: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {sut.admin_key}"},
    ) as c:
        return await c.put(
            "/v1/channels/probe",
            json={"region": "73", "kind": "web", "name": "Probe", "endpoint": endpoint},
        )


async def test_hostile_endpoints_are_refused(
    router: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    accepted = []
    for endpoint in HOSTILE:
        r = await put(router, endpoint)
        if r.status_code != 422:
            accepted.append(endpoint)
            continue
        else:
            assert r.json()["error"]["details"][0]["field"] == "endpoint"
    proof("security: hostile channel endpoints (SSRF forms included)", cases=len(HOSTILE),
          accepted=len(accepted))  # fmt: skip
    assert accepted == []


async def test_percent_encoded_line_breaks_stay_in_the_path(router: ServiceUnderTest) -> None:
    # encoded, they are path characters, never header lines: accepted, and sent encoded
    r = await put(router, "https://example.go.id/hook%0d%0aX-Injected:%201")
    assert r.status_code == 201
    assert r.json()["endpoint"] == "https://example.go.id/hook%0d%0aX-Injected:%201"


async def test_allow_list_permits_a_link_local_receiver(tmp_path: Path) -> None:
    async with service_under_test(
        create_app, tmp_path, endpoint_allowlist=["169.254.10.0/24"]
    ) as sut:
        assert (await put(sut, "http://169.254.10.5/hook")).status_code == 201
        assert (await put(sut, "http://169.254.169.254/")).status_code == 422


async def test_raw_credentials_in_endpoints_are_refused(
    router: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    """Every credential shape the router knows (siaran_shared.testing.credentials RAW),
    sent through the HTTP API: a 422 on `endpoint` naming {secret:NAME}, never stored."""
    accepted = []
    for endpoint in RAW.values():
        r = await put(router, endpoint)
        if r.status_code != 422 or "{secret:NAME}" not in r.text:
            accepted.append(endpoint)
    proof("security: raw credentials in channel endpoints", cases=len(RAW),
          accepted=len(accepted))  # fmt: skip
    assert accepted == []
