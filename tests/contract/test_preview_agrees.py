"""A preview and a submission never disagree on what is valid: the same announcement bodies
sent to the router's `POST /v1/previews` and to ingest's `POST /v1/announcements` (both
in-process) are accepted by both or refused by both, naming the same fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from siaran_ingest.app import create_app as create_ingest
from siaran_router.app import create_app as create_router
from siaran_shared.testing import ServiceUnderTest, service_under_test

BASE: dict[str, Any] = {"title": "Vaksinasi", "body": "Gratis di puskesmas.",
                        "target": {"provinces": ["73"]}}  # fmt: skip
CASES: list[dict[str, Any]] = [
    {},
    {"title": " \u00a0 "},
    {"title": "x" * 201},
    {"body": "y" * 20_001},
    {"summary": "z" * 501},
    {"link": "ftp://example.go.id/a"},
    {"link": "https://example.go.id/" + "a" * 2_100},
    {"hashtags": ["dua kata"]},
    {"hashtags": ["Sehat", "#GPR"]},
    {"target": {"provinces": ["73.03"]}},  # a regency where a province is asked for
    {"target": {"regencies": ["73"]}},
    {"target": {"kinds": ["web"]}},  # no region
    {"media": [{"url": "https://user:pass@cdn.example.go.id/a.jpg", "type": "image"}]},
    {"media": [{"url": "http://169.254.169.254/a.jpg", "type": "image"}]},
    {"media": [{"url": "https://cdn.example.go.id/a.jpg", "type": "gif"}]},
    {"media": [{"url": "https://cdn.example.go.id/a.mp4", "type": "video", "alt": "Klip"}]},
]


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[tuple[ServiceUnderTest, ServiceUnderTest]]:
    async with (
        service_under_test(create_ingest, tmp_path / "ingest") as ingest,
        service_under_test(create_router, tmp_path / "router") as router,
    ):
        yield ingest, router


def client(sut: ServiceUnderTest) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {sut.admin_key}"},
    )


def fields(answer: httpx.Response) -> set[str]:
    return {d["field"] for d in answer.json()["error"]["details"]} if answer.status_code else set()


async def test_preview_and_submission_refuse_the_same_bodies_naming_the_same_fields(
    services: tuple[ServiceUnderTest, ServiceUnderTest],
) -> None:
    ingest, router = services
    disagreements = []
    async with client(ingest) as submit, client(router) as preview:
        for n, change in enumerate(CASES):
            body = BASE | change
            draft = body | {"draft": True, "id": f"c{n}"}
            submitted = await submit.post("/v1/announcements", json=draft)
            previewed = await preview.post("/v1/previews", json=body)
            valid = (submitted.status_code == 201, previewed.status_code == 200)
            assert submitted.status_code in (201, 422), submitted.text
            assert previewed.status_code in (200, 422), previewed.text
            named = (fields(submitted) if not valid[0] else set(),
                     fields(previewed) if not valid[1] else set())  # fmt: skip
            if valid[0] != valid[1] or named[0] != named[1]:
                disagreements.append((change, submitted.text, previewed.text))
    assert disagreements == []
