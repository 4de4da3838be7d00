"""The HTTP API of ingest on the in-memory broker: every rule of the front door."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from siaran_shared.events import Priority
from siaran_shared.events.topics import ANNOUNCEMENTS, DLQ
from siaran_shared.testing import service_under_test

from services.ingest.tests.conftest import Kit, PublishFault, eventually, factory

Body = Callable[..., dict[str, Any]]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], list)
    return dict(error)


# --- accepted, idempotent ---------------------------------------------------------------------


async def test_valid_post_is_accepted_published_once_and_archived(
    kit: Kit, make_announcement: Body
) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("kominfo-1", hashtags=["GPR"]))
        assert r.status_code == 202, r.text
        assert r.json() == {"id": "kominfo-1", "status": "accepted"}
        stored = (await c.get("/v1/announcements/kominfo-1")).json()

    [event] = kit.accepted()
    assert event.announcement.id == "kominfo-1"
    assert event.announcement.hashtags == ("GPR",)
    assert event.submitted_by == "test-admin"
    assert stored["status"] == "accepted"
    assert stored["title"] == "Vaksinasi gratis"
    assert stored["target"]["provinces"] == ["73"]
    assert stored["submitted_by"] == "test-admin"


async def test_server_makes_an_id_when_none_is_given(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement(None))
    assert r.status_code == 202
    assert r.json()["id"].startswith("siaran-")
    assert [e.announcement.id for e in kit.accepted()] == [r.json()["id"]]


async def test_same_id_same_content_is_accepted_again_without_second_event(
    kit: Kit, make_announcement: Body
) -> None:
    async with kit.client() as c:
        first = await c.post("/v1/announcements", json=make_announcement("dup-1"))
        again = await c.post("/v1/announcements", json=make_announcement("dup-1"))
    assert first.json() == again.json() == {"id": "dup-1", "status": "accepted"}
    assert again.status_code == 202
    assert len(kit.accepted()) == 1


async def test_same_id_different_content_is_409(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        await c.post("/v1/announcements", json=make_announcement("dup-2"))
        r = await c.post("/v1/announcements", json=make_announcement("dup-2", title="Lain"))
    error = assert_error(r, 409, "conflict")
    assert "dup-2" in error["message"]
    assert len(kit.accepted()) == 1


async def test_twenty_simultaneous_identical_posts_produce_one_event(
    kit: Kit, make_announcement: Body
) -> None:
    async with kit.client() as c:
        responses = await asyncio.gather(
            *(c.post("/v1/announcements", json=make_announcement("burst-1")) for _ in range(20))
        )
    assert [r.status_code for r in responses] == [202] * 20
    assert all(r.json() == {"id": "burst-1", "status": "accepted"} for r in responses)
    assert len(kit.accepted()) == 1


async def test_duplicates_wait_for_the_first_publication_and_share_its_failure(
    kit: Kit, make_announcement: Body
) -> None:
    """A repeat never answers 202 for an announcement whose publication then fails."""
    gate = asyncio.Event()
    publishing = asyncio.Event()

    async def failing(event: Any) -> None:
        publishing.set()
        await gate.wait()
        raise RuntimeError("broker down")

    kit.publish.fault = failing
    async with kit.client() as c:
        first = asyncio.create_task(c.post("/v1/announcements", json=make_announcement("f-1")))
        await publishing.wait()
        second = asyncio.create_task(c.post("/v1/announcements", json=make_announcement("f-1")))
        await eventually(lambda: kit.archive.waiting("f-1") == 1, what="the repeat waiting")
        gate.set()
        results = await asyncio.gather(first, second)
        for r in results:
            error = assert_error(r, 503, "unavailable")
            assert "retry with the same id" in error["message"]
        assert r.headers["Retry-After"] == "5"
        assert kit.publish.attempts == 1, "the repeat published on its own"
        assert (await c.get("/v1/announcements/f-1")).status_code == 404

        kit.publish.fault = None
        retried = await c.post("/v1/announcements", json=make_announcement("f-1"))
    assert retried.status_code == 202
    assert len(kit.accepted()) == 1


async def test_publish_timeout_answers_503(tmp_path: Path, make_announcement: Body) -> None:
    fault = PublishFault()
    async with service_under_test(
        factory(fault, publish_timeout_s=0.05), tmp_path, observe=(ANNOUNCEMENTS, DLQ)
    ) as sut:
        kit = Kit(sut, fault)

        async def hang(event: Any) -> None:
            await asyncio.Event().wait()  # never confirmed

        fault.fault = hang
        async with kit.client() as c:
            r = await c.post("/v1/announcements", json=make_announcement("slow-1"))
    error = assert_error(r, 503, "unavailable")
    assert "did not confirm" in error["message"]


# --- 401 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (None, "missing API key"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer", "malformed"),
        ("Bearer not-a-siaran-key", "invalid or revoked"),
        ("Bearer siaran_abcdef123456_forged-secret", "invalid or revoked"),
    ],
)
async def test_401_names_what_is_wrong_with_the_key(
    kit: Kit, make_announcement: Body, header: str | None, says: str
) -> None:
    async with kit.anonymous() as c:
        headers = {"Authorization": header} if header else {}
        r = await c.post("/v1/announcements", json=make_announcement(), headers=headers)
    error = assert_error(r, 401, "unauthorized")
    assert says in error["message"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert kit.accepted() == []


async def test_revoked_key_is_refused_at_once(kit: Kit, make_announcement: Body) -> None:
    token = kit.key("sulsel", "province:73")
    async with kit.client(token) as c:
        ok = await c.post("/v1/announcements", json=make_announcement("rev-1"))
        kit.revoke("sulsel")  # same second as the request before
        refused = await c.post("/v1/announcements", json=make_announcement("rev-2"))
    assert ok.status_code == 202
    assert "revoked" in assert_error(refused, 401, "unauthorized")["message"]


# --- 403 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "target", "outside"),
    [
        ("province:73", {"provinces": ["31"]}, ["31"]),
        ("province:73", {"national": True}, ["ID"]),
        ("province:73", {"regencies": ["73.03", "31.71"]}, ["31.71"]),
        ("province:73", {"zones": ["WITA"]}, ["zone WITA"]),
        ("regency:73.03", {"provinces": ["73"]}, ["73"]),
        ("regency:73.03", {"regencies": ["73.01"]}, ["73.01"]),
    ],
)
async def test_403_names_every_out_of_scope_region(
    kit: Kit, make_announcement: Body, scope: str, target: dict[str, Any], outside: list[str]
) -> None:
    token = kit.key("scoped", scope)
    async with kit.client(token) as c:
        r = await c.post("/v1/announcements", json=make_announcement(target=target))
    error = assert_error(r, 403, "forbidden")
    assert scope in error["message"]
    for region in outside:
        assert region in error["message"]
    assert [d["message"] for d in error["details"]] == [f"out of scope: {o}" for o in outside]
    assert kit.accepted() == []


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ("province:73", {"provinces": ["73"], "regencies": ["73.03"]}),
        ("regency:73.03", {"regencies": ["73.03"]}),
        ("national", {"national": True}),
        ("admin", {"zones": ["WIT"]}),
    ],
)
async def test_keys_may_target_within_their_scope(
    kit: Kit, make_announcement: Body, scope: str, target: dict[str, Any]
) -> None:
    token = kit.key("scoped", scope)
    async with kit.client(token) as c:
        r = await c.post("/v1/announcements", json=make_announcement(target=target))
    assert r.status_code == 202, r.text


# --- 413, 415, 422 ----------------------------------------------------------------------------


async def test_413_for_a_declared_oversized_body(kit: Kit) -> None:
    async with kit.client() as c:
        r = await c.post(
            "/v1/announcements",
            content=b"x" * (256 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert "larger than the limit" in assert_error(r, 413, "payload_too_large")["message"]


async def test_413_for_an_oversized_chunked_body(kit: Kit) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 8192

    async with kit.client() as c:
        r = await c.post(
            "/v1/announcements", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "transfer-encoding" in {k.lower() for k in r.request.headers}
    assert_error(r, 413, "payload_too_large")


async def test_415_for_a_body_that_is_neither_json_nor_cap(kit: Kit) -> None:
    async with kit.client() as c:
        r = await c.post(
            "/v1/announcements", content=b"title=x", headers={"Content-Type": "text/plain"}
        )
    error = assert_error(r, 415, "unsupported_media_type")
    assert "application/cap+xml" in error["message"]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"title": None}, "title", "Field required"),
        ({"title": "   "}, "title", "must not be empty"),
        ({"title": "x" * 201}, "title", "limit is 200"),
        ({"body": "y" * 20_001}, "body", "limit is 20000"),
        ({"summary": "z" * 501}, "summary", "limit is 500"),
        ({"link": "ftp://example.go.id/x"}, "link", "URL scheme"),
        ({"link": "javascript:alert(1)"}, "link", "URL"),
        ({"hashtags": ["#GPR"]}, "hashtags", "without '#'"),
        ({"hashtags": ["dua kata"]}, "hashtags", "without '#' or spaces"),
        ({"priority": "critical"}, "priority", "normal"),
        ({"target": {"provinces": ["99"]}}, "target.provinces", "unknown province"),
        ({"target": {"regencies": ["73.99"]}}, "target.regencies", "unknown regency"),
        ({"target": {"kinds": ["web"]}}, "target", "selects no region"),
        ({"target": {"zones": ["UTC"]}}, "target.zones[0]", "WIB"),
        ({"id": "has space"}, "id", "pattern"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        (
            {"publish_at": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
            "body",
            "expires_at must be after publish_at",
        ),
        ({"publish_at": "2030-01-02T00:00:00"}, "publish_at", "timezone"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at", "in the future"),
        ({"publish_local_time": "25:00"}, "publish_local_time", "HH:MM"),
    ],
)
async def test_422_has_one_detail_per_offending_field(
    kit: Kit, make_announcement: Body, change: dict[str, Any], field: str, says: str
) -> None:
    body = make_announcement() | change
    body = {k: v for k, v in body.items() if v is not None}
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=body)
    error = assert_error(r, 422, "invalid_request")
    fields = [d["field"] for d in error["details"]]
    assert field in fields or any(f.startswith(field) for f in fields), error
    assert any(says in d["message"] for d in error["details"]), error
    assert kit.accepted() == []


async def test_422_lists_every_problem_at_once(kit: Kit) -> None:
    body = {"title": "", "body": "", "link": "ftp://x", "target": {"provinces": ["99"]}}
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=body)
    fields = {d["field"] for d in assert_error(r, 422, "invalid_request")["details"]}
    assert {"title", "body", "link", "target.provinces"} <= fields


async def test_422_for_malformed_json(kit: Kit) -> None:
    async with kit.client() as c:
        r = await c.post(
            "/v1/announcements", content=b'{"title": ', headers={"Content-Type": "application/json"}
        )
    error = assert_error(r, 422, "invalid_request")
    assert error["details"][0]["field"] == "body"


async def test_text_is_normalised_to_nfc_and_trimmed(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement(title="  Cafe\u0301 baru  "))
    assert r.status_code == 202
    assert kit.accepted()[0].announcement.title == "Caf\u00e9 baru"


# --- 429 --------------------------------------------------------------------------------------


async def test_429_with_retry_after_per_key(tmp_path: Path, make_announcement: Body) -> None:
    async with service_under_test(
        factory(rate_per_second=0.5, rate_burst=2), tmp_path, observe=(ANNOUNCEMENTS, DLQ)
    ) as sut:
        kit = Kit(sut)
        other = kit.key("other", "national")
        async with kit.client() as c:
            statuses = [
                (await c.post("/v1/announcements", json=make_announcement(f"r-{i}"))).status_code
                for i in range(3)
            ]
            limited = await c.post("/v1/announcements", json=make_announcement("r-9"))
        async with kit.client(other) as c:
            fresh = await c.post("/v1/announcements", json=make_announcement("r-other"))
    assert statuses == [202, 202, 429]
    error = assert_error(limited, 429, "rate_limited")
    assert "0.5 requests/s" in error["message"]
    assert limited.headers["Retry-After"] == "2"
    assert fresh.status_code == 202, "another key has its own bucket"


# --- read and cancel --------------------------------------------------------------------------


async def test_read_is_limited_to_the_keys_scope(kit: Kit, make_announcement: Body) -> None:
    sulsel = kit.key("sulsel", "province:73")
    jakarta = kit.key("jakarta", "province:31")
    async with kit.client() as c:
        await c.post("/v1/announcements", json=make_announcement("scoped-1"))
    async with kit.client(sulsel) as c:
        assert (await c.get("/v1/announcements/scoped-1")).status_code == 200
    async with kit.client(jakarta) as c:
        assert_error(await c.get("/v1/announcements/scoped-1"), 404, "not_found")
        assert_error(await c.post("/v1/announcements/scoped-1/cancel"), 404, "not_found")
    async with kit.client() as c:
        assert_error(await c.get("/v1/announcements/unknown"), 404, "not_found")
    assert kit.cancelled() == []


async def test_cancel_twice_is_harmless(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        await c.post("/v1/announcements", json=make_announcement("c-1"))
        first = await c.post("/v1/announcements/c-1/cancel", json={"reason": "salah ketik"})
        second = await c.post("/v1/announcements/c-1/cancel")
        stored = (await c.get("/v1/announcements/c-1")).json()
        again = await c.post("/v1/announcements", json=make_announcement("c-1"))
    assert first.status_code == second.status_code == 202
    assert first.json() == {"id": "c-1", "status": "cancelled"}
    events = kit.cancelled()
    assert {e.announcement_id for e in events} == {"c-1"}
    assert events[0].reason == "salah ketik"
    assert events[0].cancelled_at == events[-1].cancelled_at, "the first cancellation time holds"
    assert stored["status"] == "cancelled"
    assert stored["cancelled_at"]
    assert again.status_code == 202
    assert len(kit.accepted()) == 1, "no revival by resubmitting"


async def test_cancel_unknown_is_404(kit: Kit) -> None:
    async with kit.client() as c:
        assert_error(await c.post("/v1/announcements/nope/cancel"), 404, "not_found")


# --- metrics and OpenAPI ----------------------------------------------------------------------


def _count(text: str, status: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("siaran_announcements_total{") and f'status="{status}"' in line
    )


async def test_announcements_are_counted_by_outcome(kit: Kit, make_announcement: Body) -> None:
    async with kit.client() as c:
        before = (await c.get("/metrics")).text
        await c.post("/v1/announcements", json=make_announcement("m-1"))
        await c.post("/v1/announcements", json=make_announcement("m-1"))
        await c.post("/v1/announcements", json=make_announcement("m-1", title="lain"))
        await c.post("/v1/announcements", json={"title": "x"})
        await c.post("/v1/announcements/m-1/cancel")
        after = (await c.get("/metrics")).text
    for status, added in (("accepted", 1), ("duplicate", 1), ("rejected", 2), ("cancelled", 1)):
        assert _count(after, status) - _count(before, status) == added, status


async def test_openapi_documents_bodies_errors_and_cap(kit: Kit) -> None:
    async with kit.anonymous() as c:
        doc = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    assert docs.status_code == 200
    submit = doc["paths"]["/v1/announcements"]["post"]
    content = submit["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/AnnouncementIn"}
    assert "<alert" in submit["requestBody"]["description"]
    assert content["application/cap+xml"]["schema"] == {"$ref": "#/components/schemas/CapAlert"}
    schemas = doc["components"]["schemas"]
    assert schemas["CapAlert"]["xml"]["name"] == "alert"
    assert schemas["AnnouncementIn"]["examples"][0]["id"] == "kominfo-2026-000123"
    assert "TargetIn" in schemas
    ok = submit["responses"]["202"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Accepted"}
    assert {"id", "status"} <= set(schemas["Accepted"]["properties"])
    for status in ("401", "403", "409", "413", "415", "422", "429", "503"):
        response = submit["responses"][status]["content"]["application/json"]
        assert response["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, status
        assert set(response["example"]["error"]) == {"code", "message", "details"}
    assert "Retry-After" in submit["responses"]["429"]["headers"]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details"}
    one = "/v1/announcements/{announcement_id}"
    for path in (one, one + "/cancel"):
        for operation in doc["paths"][path].values():
            assert "HTTPValidationError" not in str(operation["responses"])
    assert Priority.URGENT.value in str(schemas)


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", " \t"), ("title", "x" * 201), ("body", "\n"),
     ("summary", "x" * 501), ("hashtags", ["#GPR"]), ("publish_local_time", "24:00"),
     ("target", {}), ("target", {"provinces": ["99"]}), ("category", "  ")],
)  # fmt: skip
async def test_what_the_schema_refuses_the_code_refuses(
    kit: Kit, make_announcement: Body, field: str, value: Any
) -> None:
    """Each of these breaks a constraint the OpenAPI states (it did not state them: an empty
    title was schema-valid and refused)."""
    async with kit.anonymous() as c:
        schemas = (await c.get("/openapi.json")).json()["components"]["schemas"]
    announcement, target = schemas["AnnouncementIn"]["properties"], schemas["TargetIn"]
    stated = {
        "title": announcement["title"], "body": announcement["body"],
        "summary": announcement["summary"], "hashtags": announcement["hashtags"]["items"],
        "publish_local_time": announcement["publish_local_time"],
        "target": target, "category": announcement["category"]["anyOf"][0],
    }[field]  # fmt: skip
    assert {"pattern", "maxLength", "anyOf", "properties"} & set(stated), stated
    async with kit.client() as c:
        r = await c.post("/v1/announcements", json=make_announcement("s-1", **{field: value}))
    assert_error(r, 422, "invalid_request")
    assert r.json()["error"]["details"][0]["field"].split(".")[0].split("[")[0] == field
