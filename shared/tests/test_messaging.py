from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import (
    AnnouncementCancelled,
    ChannelRemoved,
    DeliveryCompleted,
)
from siaran_shared.events.topics import DLQ
from siaran_shared.messaging import (
    Poison,
    ce_headers,
    dead_letter,
    decode,
    make_broker,
    reason_kind,
)
from siaran_shared.settings import Settings


@dataclass
class Raw:
    value: bytes | None
    key: bytes | None = b"k"
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    topic: str = "t"
    partition: int = 0
    offset: int = 0
    timestamp: int = 0


def _raw(event: AnnouncementCancelled) -> Raw:
    headers = [(k, v.encode()) for k, v in ce_headers(event, source="test").items()]
    return Raw(event.model_dump_json().encode(), headers=headers)


def test_cloudevents_binary_headers() -> None:
    event = AnnouncementCancelled(announcement_id="a", cancelled_by="x")
    h = ce_headers(event, source="siaran/ingest", event_id="e1")
    assert h["ce_specversion"] == "1.0"
    assert h["ce_id"] == "e1"
    assert h["ce_source"] == "siaran/ingest"
    assert h["ce_type"] == "id.siaran.announcement.cancelled.v1"
    assert h["content-type"] == "application/json"
    assert h["ce_time"]


def test_decode_sorts_good_from_poison() -> None:
    good = _raw(AnnouncementCancelled(announcement_id="a", cancelled_by="x"))
    wrong_version = Raw(good.value.replace(b'"schema_version":1', b'"schema_version":9'))  # type: ignore[union-attr]
    records, poison = decode(
        [good, Raw(b"\xff\xfe not json"), wrong_version, Raw(b"{}", headers=[("ce_type", b"x")])],
        AnnouncementCancelled,
    )
    assert [r.event.announcement_id for r in records] == ["a"]
    assert len(poison) == 3
    assert "invalid event" in poison[0].reason
    assert "schema_version" in poison[1].reason
    assert "unexpected ce_type" in poison[2].reason


def test_tombstone_becomes_channel_removed() -> None:
    records, poison = decode([Raw(None, key=b"chan-1")], ChannelRemoved, DeliveryCompleted)
    assert not poison
    assert isinstance(records[0].event, ChannelRemoved)
    assert records[0].event.channel_id == "chan-1"


def test_a_tombstone_is_dated_by_its_record() -> None:
    """A deletion has no body to say when it was made: the record's timestamp says it."""
    produced = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    raw = Raw(None, key=b"chan-1", timestamp=int(produced.timestamp() * 1000))
    [record], _ = decode([raw], ChannelRemoved)
    assert record.event.removed_at == produced


def test_dead_letter_reason_labels_stay_low_cardinality() -> None:
    assert reason_kind("invalid: title: required") == "invalid"
    assert reason_kind("unauthorized: bad key") == "unauthorized"
    assert reason_kind("x" * 100) == "other"
    assert reason_kind("announcement 'a1' exists: 73.03") == "other"


async def test_dead_letters_never_copy_credential_headers() -> None:
    broker = make_broker(Settings(kafka_bootstrap="127.0.0.1:9"))
    dead: list[Any] = []

    @broker.subscriber(DLQ, batch=True)
    async def spy(_: Any, msg: KafkaMessage) -> None:
        dead.extend(msg.raw_message)

    key = b"siaran_abc_secretpart"
    poison = Raw(
        b'{"title": "T"}',
        topic="siaran.inbound.v1",
        headers=[
            ("authorization", b"Bearer " + key),
            ("Proxy-Authorization", b"Basic " + key),
            ("X-Api-Key", key),
            ("x-auth-token", key),
            ("ce_type", b"id.siaran.inbound"),
            ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ],
    )
    async with TestKafkaBroker(broker):
        await dead_letter(broker, "siaran/ingest", [Poison(poison, "unauthorized: bad key")])
    assert len(dead) == 1
    headers = {k: v.decode() for k, v in dead[0].headers}
    assert dead[0].value == poison.value  # the original bytes
    assert key.decode() not in repr(dead[0].headers)
    assert not {k.lower() for k in headers} & {"authorization", "proxy-authorization",
                                               "x-api-key", "x-auth-token"}  # fmt: skip
    assert headers["ce_type"] == "id.siaran.inbound"
    assert headers["traceparent"].startswith("00-")
    assert headers["siaran-error"] == "unauthorized: bad key"
    assert headers["siaran-origin-topic"] == "siaran.inbound.v1"
