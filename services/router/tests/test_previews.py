"""`POST /v1/previews`: per-kind texts from the fan-out's own rendering, counts, warnings,
the key's scope, the contract's 422, and nothing stored or published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from siaran_router.app import create_app
from siaran_router.planning import render_texts
from siaran_router.preview_api import PreviewIn
from siaran_shared.auth import KeyRing
from siaran_shared.events.topics import CHANNELS, DELIVERIES, RESULTS
from siaran_shared.testing import ServiceUnderTest, service_under_test

LONG = "Peringatan dini cuaca ekstrem untuk wilayah pesisir selatan. " * 12
CHANNELS_SEEDED = [
    ("x-bantaeng", "73.03", "x", "https://hooks.example.go.id/x"),
    ("x-gowa", "73.06", "x", "https://hooks.example.go.id/x2"),
    ("ig-bantaeng", "73.03", "instagram", "instagram://1784?token={secret:ig}"),
    ("ig-bridge", "73.06", "instagram", "https://bridge.example.go.id/ig"),
    ("web-sulsel", "73", "web", "https://sulselprov.go.id/hook"),
    ("web-jakpus", "31.71", "web", "https://jakarta.go.id/hook"),
]


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(
        create_app, tmp_path, observe=(DELIVERIES, RESULTS, CHANNELS)
    ) as sut:
        async with client(sut) as admin:
            for cid, region, kind, endpoint in CHANNELS_SEEDED:
                body = {"region": region, "kind": kind, "name": cid, "endpoint": endpoint}
                assert (await admin.put(f"/v1/channels/{cid}", json=body)).is_success
        yield sut


def client(sut: ServiceUnderTest, scope: str | None = None) -> httpx.AsyncClient:
    token = sut.admin_key
    if scope is not None:
        _, token = KeyRing(sut.runtime.settings.resolved_api_keys_file).create("sulsel", scope)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://router",
        headers={"Authorization": f"Bearer {token}"},
    )


def announcement(**target: Any) -> dict[str, Any]:
    return {"id": "banjir-1", "priority": "urgent", "title": "Siaga banjir", "body": LONG,
            "link": "https://bmkg.go.id/peringatan", "hashtags": ["SiagaBanjir"],
            "target": target or {"provinces": ["73"]}}  # fmt: skip


async def test_preview_renders_each_kind_as_the_fanout_does(router: ServiceUnderTest) -> None:
    published = {topic: len(records) for topic, records in router.seen.items()}
    body = announcement(provinces=["73"], regencies=["73.04"], kinds=["x", "instagram", "web",
                        "sms"], tags=[])  # fmt: skip
    async with client(router, "province:73") as c:
        r = await c.post("/v1/previews", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["channels"], got["regions"]) == (5, 3)
    texts = render_texts(PreviewIn.model_validate(body).to_announcement(), ["x", "instagram"])
    x = got["by_kind"]["x"]
    assert x == {"channels": 2, "title": texts["x"].title, "text": texts["x"].text,
                 "length": x["length"], "limit": 280, "unit": "weighted characters",
                 "title_limit": None, "truncated": True}  # fmt: skip
    assert x["length"] <= 280
    assert got["by_kind"]["web"]["limit"] is None  # no limit: null, and nothing cut
    assert got["by_kind"]["web"]["truncated"] is False
    assert got["by_kind"]["instagram"]["text"] == texts["instagram"].text
    assert got["warnings"] == [
        {"code": "media_required", "kind": "instagram", "channels": 2, "skipped": 1},
        {"code": "no_channels", "kind": "sms", "channels": 0},
        {"code": "no_channels", "region": "73.04", "channels": 0},
        {"code": "truncated", "kind": "x", "channels": 2},
    ]
    assert {topic: len(records) for topic, records in router.seen.items()} == published


async def test_media_clears_media_required(router: ServiceUnderTest) -> None:
    body = announcement(regencies=["73.03"]) | {
        "media": [{"url": "https://bmkg.go.id/peta.jpg", "type": "image", "alt": "Peta"}]
    }
    async with client(router) as c:
        r = await c.post("/v1/previews", json=body)
    assert r.status_code == 200, r.text
    assert [w["code"] for w in r.json()["warnings"]] == ["truncated"]


async def test_youtube_needs_a_video_not_a_picture(router: ServiceUnderTest) -> None:
    async with client(router) as admin:
        endpoint = "youtube://UCabcdefghijklmnopqrstuv?token={secret:yt}"
        body = {"region": "73.03", "kind": "youtube", "name": "yt", "endpoint": endpoint}
        assert (await admin.put("/v1/channels/yt-bantaeng", json=body)).status_code == 201
        picture = [{"url": "https://bmkg.go.id/peta.jpg", "type": "image"}]
        r = await admin.post(
            "/v1/previews", json=announcement(regencies=["73.03"]) | {"media": picture}
        )
    assert r.status_code == 200, r.text
    needed = [w for w in r.json()["warnings"] if w["code"] == "media_required"]
    assert needed == [{"code": "media_required", "kind": "youtube", "channels": 1, "skipped": 1}]


async def test_preview_outside_the_scope_is_refused(router: ServiceUnderTest) -> None:
    async with client(router, "province:73") as c:
        r = await c.post("/v1/previews", json=announcement(regencies=["73.03", "31.71"]))
        national = await c.post("/v1/previews", json=announcement(national=True))
    assert (r.status_code, national.status_code) == (403, 403)
    assert r.json()["error"]["code"] == "forbidden"
    assert "31.71" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "title"),
        ({"body": None}, "body"),
        ({"link": "ftp://x.go.id/a"}, "link"),
        ({"hashtags": ["#tag"]}, "hashtags"),
        ({"target": {"provinces": ["99"]}}, "target.provinces"),
        ({"target": {"kinds": ["x"]}}, "target"),
        ({"media": [{"url": "http://169.254.169.254/x.jpg", "type": "image"}]}, "media[0].url"),
        ({"media": [{"url": "https://a.go.id/x.gif", "type": "gif"}]}, "media[0].type"),
    ],
)
async def test_bad_input_is_the_contracts_422_naming_the_field(
    router: ServiceUnderTest, change: dict[str, Any], field: str
) -> None:
    async with client(router) as c:
        r = await c.post("/v1/previews", json=announcement() | change)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert any(d["field"] == field for d in error["details"]), error


def test_openapi_types_the_answer(router: ServiceUnderTest) -> None:
    doc = router.app.openapi()
    operation = doc["paths"]["/v1/previews"]["post"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Preview"}
    assert {"401", "403", "413", "422"} <= set(operation["responses"])
    schemas = doc["components"]["schemas"]
    assert set(schemas["KindPreview"]["required"]) >= {"text", "length", "limit", "unit"}
    warning = schemas["Preview"]["properties"]["warnings"]["items"]
    assert set(warning["properties"]) == {"code", "kind", "region", "tag", "channels", "skipped"}


async def test_preview_shows_each_platforms_limit_unit_and_title(
    router: ServiceUnderTest,
) -> None:
    async with client(router) as admin:
        for cid, kind in [("yt-bantaeng", "youtube"), ("threads-bantaeng", "threads")]:
            body = {"region": "73.03", "kind": kind, "name": cid,
                    "endpoint": f"https://bridge.example.go.id/{cid}"}  # fmt: skip
            assert (await admin.put(f"/v1/channels/{cid}", json=body)).is_success
    body = announcement(regencies=["73.03"], kinds=["youtube", "threads"])
    body["title"] = "Siaga banjir rob di pesisir selatan Sulawesi, warga diminta menjauhi " * 2
    async with client(router) as c:
        r = await c.post("/v1/previews", json=body)
    assert r.status_code == 200, r.text
    youtube, threads = r.json()["by_kind"]["youtube"], r.json()["by_kind"]["threads"]
    texts = render_texts(PreviewIn.model_validate(body).to_announcement(), ["youtube"])
    assert (youtube["title"], youtube["text"]) == texts["youtube"]
    assert (youtube["limit"], youtube["unit"], youtube["title_limit"]) == (5000, "UTF-8 bytes", 100)
    assert youtube["length"] == len(youtube["text"].encode())
    assert youtube["truncated"] is True  # the title was cut to 100
    assert (threads["limit"], threads["unit"]) == (500, "characters (emoji: their UTF-8 bytes)")
    assert threads["title"] == body["title"].strip()
