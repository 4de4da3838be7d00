"""CAP 1.2 over HTTP: real OASIS and BMKG-style documents through the whole front door."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.ingest.tests.conftest import Kit

DATA = Path(__file__).parent / "data" / "cap"
CAP = {"Content-Type": "application/cap+xml"}


def cap(name: str, **replace: str) -> bytes:
    text = (DATA / name).read_text("utf-8")
    for old, new in replace.items():
        text = text.replace(old.replace("_", "-"), new)
    return text.encode()


def tsunami_warning() -> bytes:
    return cap("bmkg_tsunami_warning.xml").replace(b"2026-01-15T20:30:00", b"2099-01-15T20:30:00")


async def post_cap(kit: Kit, body: bytes, token: str | None = None) -> Any:
    async with kit.client(token, **CAP) as c:
        return await c.post("/v1/announcements", content=body)


async def test_cap_alert_becomes_an_announcement(kit: Kit) -> None:
    body = cap("severe_thunderstorm_bantaeng.xml").replace(b"2003-06-17T16:00", b"2099-06-17T16:00")
    r = await post_cap(kit, body)
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "KSTO1055887203", "status": "accepted"}
    [event] = kit.accepted()
    a = event.announcement
    assert a.title == "SEVERE THUNDERSTORM WARNING"
    assert "TAKE COVER" in a.body
    assert a.priority.value == "urgent"
    assert a.target.regencies == ("73.03",)
    assert a.expires_at is not None
    assert a.expires_at.year == 2099


async def test_cap_alert_sent_twice_is_one_announcement(kit: Kit) -> None:
    first, again = await post_cap(kit, tsunami_warning()), await post_cap(kit, tsunami_warning())
    assert first.status_code == again.status_code == 202
    assert len(kit.accepted()) == 1


async def test_expired_cap_alert_is_422(kit: Kit) -> None:
    r = await post_cap(kit, cap("severe_thunderstorm_bantaeng.xml"))  # expired in 2003
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [
        {"field": "expires_at", "message": "must be in the future"}
    ]


async def test_cap_update_replaces_and_cancels_the_referenced_announcement(kit: Kit) -> None:
    async with kit.client() as c:
        r = await c.post(
            "/v1/announcements",
            json={"id": "TRI13970876.1", "title": "EQ 3.4", "body": "Gempa kecil.",
                  "target": {"regencies": ["31.71"]}},
        )  # fmt: skip
        assert r.status_code == 202
    r = await post_cap(kit, cap("earthquake_update_jakarta.xml"))
    assert r.status_code == 202, r.text
    assert r.json() == {"id": "TRI13970876.2", "status": "accepted", "replaces": "TRI13970876.1"}
    new = kit.accepted()[-1]
    assert new.announcement.id == "TRI13970876.2"
    assert new.replaces == "TRI13970876.1"
    assert [c.announcement_id for c in kit.cancelled()] == ["TRI13970876.1"]
    async with kit.client() as c:
        old = (await c.get("/v1/announcements/TRI13970876.1")).json()
        updated = (await c.get("/v1/announcements/TRI13970876.2")).json()
    assert old["status"] == "cancelled"
    assert updated["replaces"] == "TRI13970876.1"


async def test_cap_update_of_an_unknown_announcement_is_accepted_as_new(kit: Kit) -> None:
    r = await post_cap(kit, cap("earthquake_update_jakarta.xml"))
    assert r.status_code == 202
    assert r.json() == {"id": "TRI13970876.2", "status": "accepted"}
    assert kit.cancelled() == []


async def test_cap_cancel_cancels_the_referenced_warning(kit: Kit) -> None:
    assert (await post_cap(kit, tsunami_warning())).status_code == 202
    r = await post_cap(kit, cap("bmkg_tsunami_cancel.xml"))
    assert r.status_code == 202, r.text
    assert r.json() == {
        "id": "BMKG-PDT-20260115093012-01",
        "status": "cancelled",
        "cancelled": ["BMKG-PDT-20260115093012-01"],
    }
    assert [c.announcement_id for c in kit.cancelled()] == ["BMKG-PDT-20260115093012-01"]
    assert "BMKG-PDT-20260115093012-02" in (kit.cancelled()[0].reason or "")


async def test_cap_cancel_of_nothing_known_is_404(kit: Kit) -> None:
    r = await post_cap(kit, cap("bmkg_tsunami_cancel.xml"))
    assert r.status_code == 404
    assert r.json()["error"]["details"][0]["field"] == "alert.references"


async def test_cap_outside_the_keys_scope_is_403(kit: Kit) -> None:
    token = kit.key("jakarta", "province:31")
    body = cap("severe_thunderstorm_bantaeng.xml").replace(b"2003-06-17T16:00", b"2099-06-17T16:00")
    r = await post_cap(kit, body, token)
    assert r.status_code == 403
    assert "73.03" in r.json()["error"]["message"]


async def test_cap_cancel_of_another_scopes_announcement_is_403(kit: Kit) -> None:
    assert (await post_cap(kit, tsunami_warning())).status_code == 202
    token = kit.key("jakarta", "province:31")
    r = await post_cap(kit, cap("bmkg_tsunami_cancel.xml"), token)
    assert r.status_code == 403
    assert kit.cancelled() == []


@pytest.mark.parametrize(
    "name",
    [
        "hostile_billion_laughs.xml",
        "hostile_external_entity.xml",
        "hostile_external_dtd.xml",
        "hostile_internal_dtd.xml",
    ],
)
async def test_hostile_xml_is_refused_with_422(kit: Kit, name: str) -> None:
    r = await post_cap(kit, cap(name))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]
    assert kit.accepted() == []


async def test_invalid_cap_names_every_problem(kit: Kit) -> None:
    body = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
        b"<status>Exercise</status><msgType>Alert</msgType></alert>"
    )
    r = await post_cap(kit, body)
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"alert.sender", "alert.sent", "alert.status", "alert.scope", "alert.info"} <= fields


async def test_cap_over_the_size_limit_is_413(kit: Kit) -> None:
    r = await post_cap(kit, b"<alert>" + b" " * (256 * 1024) + b"</alert>")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


async def test_cap_with_invalid_mapped_fields_is_422_naming_them(kit: Kit) -> None:
    long_headline = b"<headline>" + b"Peringatan " * 30 + b"</headline>"
    body = tsunami_warning().replace(
        b"<headline>Peringatan Dini Tsunami di Aceh Selatan, Aceh</headline>", long_headline
    )
    r = await post_cap(kit, body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["message"].startswith("CAP alert maps to an invalid announcement")
    assert any(d["field"] == "title" and "limit is 200" in d["message"] for d in error["details"])


async def test_cap_draft_is_stored_as_a_draft(kit: Kit) -> None:
    body = tsunami_warning().replace(b"<status>Actual</status>", b"<status>Draft</status>")
    assert b"<status>Draft</status>" in body
    r = await post_cap(kit, body)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft"
    assert kit.accepted() == []
