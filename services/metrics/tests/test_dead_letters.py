"""Dead letters in metrics: kept from siaran.dlq.v1 as dead-lettered (credentials never),
listed newest first with a cursor, read with a redacted preview, replayed to their origin
topic once (again only with force=true); admin keys only."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from siaran_metrics import dead_letters_api
from siaran_metrics.app import create_app
from siaran_shared.auth import KeyRing
from siaran_shared.events.topics import DELIVERIES, DLQ, INBOUND
from siaran_shared.messaging import Poison, dead_letter
from siaran_shared.testing import ServiceUnderTest, service_under_test

API_KEY = "siaran_0123456789ab_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"
POISON = json.dumps({"title": "T", "body": "call with token " + API_KEY, "secret": "hunter2",
                     "target": {"provinces": ["99"]}}).encode()  # fmt: skip


@pytest.fixture
async def metrics(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path, observe=(INBOUND, DELIVERIES)) as sut:
        yield sut


def client(sut: ServiceUnderTest, token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://metrics",
        headers={"Authorization": f"Bearer {token or sut.admin_key}"},
    )


async def poison(
    sut: ServiceUnderTest,
    offset: int,
    *,
    topic: str = INBOUND,
    value: bytes = POISON,
    reason: str = "invalid announcement: target.provinces: unknown province code(s) '99'",
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """A record of `topic` dead-lettered by the shared dead_letter, as ingest does it."""
    headers = headers or [("content-type", b"application/json")]
    raw = SimpleNamespace(topic=topic, partition=2, offset=offset, key=f"k-{offset}".encode(),
                          value=value, headers=headers)  # fmt: skip
    await dead_letter(sut.broker, "siaran/ingest", [Poison(raw, reason)])


async def listed(sut: ServiceUnderTest, **params: Any) -> dict[str, Any]:
    async with client(sut) as c:
        r = await c.get("/v1/dead-letters", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_dead_letter_is_kept_with_its_reason_and_a_redacted_preview(
    metrics: ServiceUnderTest,
) -> None:
    credentials = [("authorization", f"Bearer {API_KEY}".encode()), ("content-type", b"x")]
    await poison(metrics, 7, headers=credentials)
    [item] = (await listed(metrics))["items"]
    assert item["origin_topic"] == INBOUND
    assert item["origin_offset"] == 7
    assert item["key"] == "k-7"
    assert item["error"].startswith("invalid announcement: target.provinces")
    assert item["dead_lettered_by"] == "siaran/ingest"
    assert item["size"] == len(POISON)
    assert item["replay_count"] == 0
    async with client(metrics) as c:
        detail = (await c.get(f"/v1/dead-letters/{item['id']}")).json()
    assert "authorization" not in {h.lower() for h in detail["headers"]}
    assert detail["headers"]["content-type"] == "x"  # the original's, less credentials
    assert not [h for h in detail["headers"] if h.startswith("siaran-")]
    assert API_KEY not in json.dumps(detail)
    assert "hunter2" not in json.dumps(detail)
    assert '"target": {"provinces": ["99"]}' in detail["preview"]
    assert detail["preview_truncated"] is False


async def test_a_credential_header_reaching_the_topic_is_never_kept(
    metrics: ServiceUnderTest,
) -> None:
    headers = {"siaran-error": f"unauthorized: {API_KEY}", "siaran-origin-topic": INBOUND,
               "authorization": API_KEY, "x-api-key": API_KEY}  # fmt: skip
    await metrics.publish(DLQ, b"{}", key="k", headers=headers)
    [item] = (await listed(metrics))["items"]
    async with client(metrics) as c:
        detail = (await c.get(f"/v1/dead-letters/{item['id']}")).json()
        assert (await c.post(f"/v1/dead-letters/{item['id']}/replay")).status_code == 200
    assert API_KEY not in json.dumps(item)
    assert API_KEY not in json.dumps(detail)
    stored = b"".join(p.read_bytes() for p in metrics.runtime.settings.home.rglob("metrics.db*"))
    assert stored
    assert API_KEY.encode() not in stored
    assert base64.b64encode(API_KEY.encode())[:40] not in stored
    [replayed] = metrics.seen[INBOUND]
    assert {k for k, _ in replayed.headers} & {"authorization", "x-api-key"} == set()


async def test_the_same_dead_letter_consumed_twice_is_kept_once(metrics: ServiceUnderTest) -> None:
    raw = SimpleNamespace(topic=DLQ, partition=0, offset=3, timestamp=1, key=b"k", value=b"{}",
                          headers=[("siaran-origin-topic", INBOUND.encode())])  # fmt: skip
    await metrics.app.state.dead_letters.record([raw, raw])
    await metrics.app.state.dead_letters.record([raw])
    assert len((await listed(metrics))["items"]) == 1
    another = SimpleNamespace(**{**vars(raw), "offset": 4})  # alike, but another record
    await metrics.app.state.dead_letters.record([another])
    assert len((await listed(metrics))["items"]) == 2


async def test_pages_follow_the_cursor_newest_first_and_filter_by_origin(
    metrics: ServiceUnderTest,
) -> None:
    for offset in range(5):
        await poison(metrics, offset)
    await poison(metrics, 99, topic=DELIVERIES)
    seen: list[int] = []
    cursor = None
    while True:
        page = await listed(
            metrics, origin=INBOUND, limit=2, **({"cursor": cursor} if cursor else {})
        )
        seen += [item["origin_offset"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert len(set(seen)) == 5
    all_items = (await listed(metrics))["items"]
    times = [item["received_at"] for item in all_items]
    assert times == sorted(times, reverse=True)
    assert [i["origin_offset"] for i in (await listed(metrics, origin=DELIVERIES))["items"]] == [99]
    async with client(metrics) as c:
        r = await c.get("/v1/dead-letters", params={"cursor": "not-a-cursor"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "cursor"


async def test_replay_produces_the_original_record_once_then_only_with_force(
    metrics: ServiceUnderTest,
) -> None:
    original = [("content-type", b"application/json"), ("x-sender", b"sistem-kementerian")]
    await poison(metrics, 11, headers=original)
    [item] = (await listed(metrics))["items"]
    async with client(metrics) as c:
        first = await c.post(f"/v1/dead-letters/{item['id']}/replay")
        again = await c.post(f"/v1/dead-letters/{item['id']}/replay")
        forced = await c.post(f"/v1/dead-letters/{item['id']}/replay", params={"force": "true"})
    assert first.status_code == 200, first.text
    assert first.json()["replay_count"] == 1
    assert first.json()["replayed_by"] == "test-admin"
    assert again.status_code == 409
    assert "force=true" in again.json()["error"]["message"]
    assert forced.status_code == 200
    assert forced.json()["replay_count"] == 2
    records = metrics.seen[INBOUND]
    assert len(records) == 2
    record = records[0]
    assert record.value == POISON
    assert record.key == b"k-11"
    headers = dict(record.headers)
    assert headers["content-type"] == b"application/json"
    assert headers["x-sender"] == b"sistem-kementerian"
    assert "siaran-replayed-at" in headers
    assert not [k for k in headers if k.startswith(("siaran-error", "siaran-origin-",
                                                    "siaran-dead-lettered-"))]  # fmt: skip
    assert (await listed(metrics, replayed="true"))["items"][0]["id"] == item["id"]
    assert (await listed(metrics, replayed="false"))["items"] == []


async def test_a_replay_the_broker_refuses_is_a_503_and_not_marked(
    metrics: ServiceUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(*_: object) -> int:
        raise ConnectionError("broker down")

    await poison(metrics, 12)
    [item] = (await listed(metrics))["items"]
    monkeypatch.setattr(dead_letters_api, "replay", refused)
    async with client(metrics) as c:
        r = await c.post(f"/v1/dead-letters/{item['id']}/replay")
        assert r.status_code == 503
        detail = (await c.get(f"/v1/dead-letters/{item['id']}")).json()
    assert detail["replay_count"] == 0
    assert detail["replayed_at"] is None


async def test_a_dead_letter_from_no_siaran_topic_is_not_replayed(
    metrics: ServiceUnderTest,
) -> None:
    await metrics.publish(DLQ, b"{}", headers={"siaran-origin-topic": "__consumer_offsets"})
    await metrics.publish(DLQ, b"{}", headers={"siaran-error": "no origin"})
    async with client(metrics) as c:
        for item in (await listed(metrics))["items"]:
            r = await c.post(f"/v1/dead-letters/{item['id']}/replay")
            assert r.status_code == 409, r.text
            assert "not a Siaran topic" in r.json()["error"]["message"]
        assert (await c.get("/v1/dead-letters/" + "0" * 24)).status_code == 404
        assert (await c.post("/v1/dead-letters/" + "0" * 24 + "/replay")).status_code == 404


@pytest.mark.parametrize("scope", ["national", "province:73", "regency:73.03"])
async def test_non_admin_keys_are_refused(metrics: ServiceUnderTest, scope: str) -> None:
    await poison(metrics, 1)
    [item] = (await listed(metrics))["items"]
    _, token = KeyRing(metrics.runtime.settings.resolved_api_keys_file).create(scope, scope)
    async with client(metrics, token) as c:
        statuses = [
            (await c.get("/v1/dead-letters")).status_code,
            (await c.get(f"/v1/dead-letters/{item['id']}")).status_code,
            (await c.post(f"/v1/dead-letters/{item['id']}/replay")).status_code,
        ]
    assert statuses == [403, 403, 403]
    assert metrics.seen[INBOUND] == []


def test_every_status_a_dead_letter_route_answers_is_documented_as_the_error_shape(
    metrics: ServiceUnderTest,
) -> None:
    paths = metrics.app.openapi()["paths"]
    expected = {
        ("get", "/v1/dead-letters"): {"200", "401", "403", "422"},
        ("get", "/v1/dead-letters/{letter_id}"): {"200", "401", "403", "404", "422"},
        ("post", "/v1/dead-letters/{letter_id}/replay"): {
            "200", "401", "403", "404", "409", "422", "503"
        },
    }  # fmt: skip
    for (method, path), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status, response in responses.items():
            schema = response["content"]["application/json"]["schema"]
            if status.startswith(("4", "5")):
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
