"""Kafka inbound on the in-memory broker: same rules as HTTP; what cannot be accepted goes to
the dead-letter topic with the reason and the original bytes, and consumption continues."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from siaran_shared.events.topics import INBOUND

from services.ingest.tests.conftest import Kit, announcement, status_of

CAP_FILE = Path(__file__).parent / "data" / "cap" / "earthquake_update_jakarta.xml"


def dead_letter(kit: Kit, index: int = -1) -> tuple[bytes, dict[str, str]]:
    record = kit.dead_letters[index]
    return record.value, {k: v.decode() for k, v in (record.headers or ())}


async def send(kit: Kit, body: bytes, **headers: str) -> None:
    await kit.sut.publish(INBOUND, body, key="k", headers=headers)


def auth(kit: Kit, token: str | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {token or kit.sut.admin_key}"}


async def test_valid_inbound_record_is_accepted_once(kit: Kit) -> None:
    body = json.dumps(announcement("in-1")).encode()
    await send(kit, body, **auth(kit))
    await send(kit, body, **auth(kit))
    assert [e.announcement.id for e in kit.accepted()] == ["in-1"]
    assert kit.dead_letters == []


async def test_bare_key_without_bearer_is_accepted(kit: Kit) -> None:
    await send(kit, json.dumps(announcement("in-2")).encode(), authorization=kit.sut.admin_key)
    assert [e.announcement.id for e in kit.accepted()] == ["in-2"]


async def test_cap_on_the_inbound_topic(kit: Kit) -> None:
    await send(kit, CAP_FILE.read_bytes(), **auth(kit), **{"content-type": "application/cap+xml"})
    assert [e.announcement.id for e in kit.accepted()] == ["TRI13970876.2"]


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (json.dumps(announcement("x-1")).encode(), {}, "unauthorized: missing"),
        (json.dumps(announcement("x-2")).encode(), {"authorization": "Bearer siaran_nope_nope"},
         "unauthorized: invalid or revoked"),
        (b"{not json", "AUTH", "invalid: invalid announcement"),
        (json.dumps({"title": "t", "body": "b", "target": {"provinces": ["99"]}}).encode(), "AUTH",
         "target.provinces: unknown province"),
        (json.dumps(announcement("x-3", target={"national": True})).encode(), "SULSEL",
         "forbidden: key 'sulsel' (province:73) may not target: ID"),
        (b"<alert/>", "CAP", "invalid: invalid CAP 1.2 alert"),
    ],
)  # fmt: skip
async def test_unacceptable_records_are_dead_lettered_with_reason_and_original_bytes(
    kit: Kit, body: bytes, headers: Any, reason: str
) -> None:
    if headers == "AUTH":
        headers = auth(kit)
    elif headers == "SULSEL":
        headers = auth(kit, kit.key("sulsel", "province:73"))
    elif headers == "CAP":
        headers = auth(kit) | {"content-type": "application/cap+xml"}
    await send(kit, body, **headers, trace="t-1")
    value, got = dead_letter(kit)
    assert value == body
    assert reason in got["siaran-error"], got["siaran-error"]
    assert got["siaran-origin-topic"] == INBOUND
    assert got["trace"] == "t-1", "original headers travel with the dead letter"
    assert kit.accepted() == []


async def test_api_key_never_reaches_the_dead_letter_reason(kit: Kit) -> None:
    token = kit.key("sulsel", "province:73")
    body = json.dumps(announcement("x-4", target={"provinces": ["31"]})).encode()
    await send(kit, body, **auth(kit, token))
    _, got = dead_letter(kit)
    assert token not in got["siaran-error"]
    assert token.split("_")[2] not in json.dumps({k: v for k, v in got.items()
                                                   if k != "authorization"})  # fmt: skip


async def test_conflict_is_dead_lettered_and_consumption_continues(kit: Kit) -> None:
    await send(kit, json.dumps(announcement("c-1")).encode(), **auth(kit))
    await send(kit, json.dumps(announcement("c-1", title="lain")).encode(), **auth(kit))
    await send(kit, json.dumps(announcement("c-2")).encode(), **auth(kit))
    assert [e.announcement.id for e in kit.accepted()] == ["c-1", "c-2"]
    _, got = dead_letter(kit)
    assert got["siaran-error"].startswith("conflict: announcement 'c-1'")


async def test_publish_failure_fails_the_batch_instead_of_losing_it(kit: Kit) -> None:
    """No dead letter and no commit: the handler raises, so the batch is consumed again."""

    async def down(event: Any) -> None:
        raise RuntimeError("broker down")

    kit.publish.fault = down
    body = json.dumps(announcement("p-1")).encode()
    with pytest.raises(Exception, match="broker down"):
        await send(kit, body, **auth(kit))
    assert kit.dead_letters == []
    kit.publish.fault = None
    await send(kit, body, **auth(kit))  # the redelivery
    assert [e.announcement.id for e in kit.accepted()] == ["p-1"]


async def test_inbound_follows_the_key_roles_like_http(kit: Kit) -> None:
    writer = kit.key("writer", "province:73", "draft")
    desk = kit.key("desk", "province:73")
    approver = kit.key("approver", "province:73", "approve")
    await send(kit, json.dumps(announcement("r-1")).encode(), **auth(kit, writer))
    await send(kit, json.dumps(announcement("r-2", draft=True)).encode(), **auth(kit, desk))
    await send(kit, json.dumps(announcement("r-3")).encode(), **auth(kit, approver))
    assert (await status_of(kit, "r-1"))["status"] == "pending_approval"
    assert (await status_of(kit, "r-2"))["status"] == "draft"
    assert kit.accepted() == []
    [letter] = kit.dead_letters
    reason = dict(letter.headers)["siaran-error"].decode()
    assert reason.startswith("forbidden: key 'approver'")
    assert "publish or draft role" in reason
    async with kit.client() as client:
        assert (await client.get("/v1/announcements/r-3")).status_code == 404


async def test_a_cap_draft_on_the_inbound_topic_becomes_a_draft(kit: Kit) -> None:
    body = CAP_FILE.read_bytes()
    status = re.search(rb"<status>\s*Actual\s*</status>", body)
    assert status is not None
    draft = body.replace(status.group(0), b"<status>Draft</status>")
    draft = re.sub(rb"<msgType>\s*Update\s*</msgType>", b"<msgType>Alert</msgType>", draft)
    await send(kit, draft, **auth(kit), **{"content-type": "application/cap+xml"})
    assert kit.dead_letters == []
    assert kit.accepted() == []
    assert (await status_of(kit, "TRI13970876.2"))["status"] == "draft"
