"""The bulk produce path: straight to aiokafka with one producer span per trace context and
topic, and FastStream's own path wherever no connected aiokafka producer is behind the broker.

The first test pins the FastStream internals `aiokafka_producer` reaches into, so a FastStream
upgrade that moves them fails here instead of silently falling back to the slow path.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    DeliveryPlanned,
    Target,
)
from siaran_shared.messaging import (
    InContext,
    Outgoing,
    SpanPerContext,
    aiokafka_producer,
    ce_headers,
    make_broker,
    publish_all,
)
from siaran_shared.messaging.producer import queue_all
from siaran_shared.settings import Settings
from siaran_shared.tracing import event_ids


def _broker(tmp_path: Path) -> KafkaBroker:
    return make_broker(Settings(home=tmp_path, kafka_bootstrap="127.0.0.1:9"))


class RecordingProducer(AIOKafkaProducer):  # type: ignore[misc]  # aiokafka is untyped
    """An aiokafka producer that records sends instead of talking to a broker."""

    def __init__(self) -> None:
        super().__init__(bootstrap_servers="127.0.0.1:9")
        self.sent: list[dict[str, Any]] = []
        self.fail_at: int | None = None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._closed = True

    def __del__(self) -> None:  # never started, nothing to warn about
        pass

    async def send(self, topic: str, value: bytes | None = None, **kw: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.fail_at is not None and len(self.sent) >= self.fail_at:
            future.set_exception(ConnectionError("broker gone"))
        else:
            future.set_result(None)
        self.sent.append({"topic": topic, "value": value, **kw})
        return future


async def test_the_connected_aiokafka_producer_is_found(tmp_path: Path) -> None:
    broker = _broker(tmp_path)
    assert aiokafka_producer(broker) is None  # not connected yet
    producer = RecordingProducer()
    # exactly what FastStream's KafkaBrokerConfig.connect does with the producer it builds
    await broker.config.producer.connect(producer, serializer=None)
    assert aiokafka_producer(broker) is producer
    await broker.config.producer.disconnect()
    assert aiokafka_producer(broker) is None


async def test_the_in_memory_test_broker_takes_faststreams_path(tmp_path: Path) -> None:
    broker = _broker(tmp_path)
    got: list[AnnouncementCancelled] = []

    @broker.subscriber("t")
    async def handle(body: AnnouncementCancelled) -> None:
        got.append(body)

    async with TestKafkaBroker(broker):
        assert aiokafka_producer(broker) is None
        event = AnnouncementCancelled(announcement_id="a1", cancelled_by="x")
        assert await publish_all(broker, "siaran/test", [Outgoing("t", "a1", event)]) == 1
    assert got == [event]


def _tracer() -> tuple[trace.Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


async def _produce(producer: RecordingProducer, items: list[Outgoing], tracer: trace.Tracer) -> int:
    """Queue the items, then await their acknowledgement (which ends the spans)."""
    acked = await queue_all(producer, "siaran/router", items, SpanPerContext(tracer))
    if acked is not None:
        await acked
    return len(producer.sent)


def _headers(record: dict[str, Any]) -> dict[str, str]:
    return {k: v.decode() for k, v in record["headers"]}


async def test_records_share_one_producer_span_per_context_and_topic() -> None:
    tracer, exporter = _tracer()
    producer = RecordingProducer()
    with tracer.start_as_current_span("announcement a1") as a1_span:
        a1 = trace.set_span_in_context(a1_span)
    with tracer.start_as_current_span("announcement a2") as a2_span:
        a2 = trace.set_span_in_context(a2_span)
    items = [
        *(Outgoing("deliveries", f"ch-{n}", _cancelled(f"a1-{n}"), context=a1) for n in range(5)),
        Outgoing("results", "a1", _cancelled("a1"), context=a1),
        *(Outgoing("deliveries", f"ch-{n}", _cancelled(f"a2-{n}"), context=a2) for n in range(3)),
        Outgoing("channels", "ch-9", None, context=a2),
    ]

    assert await _produce(producer, items, tracer) == 10

    producer_spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    count = "messaging.batch.message_count"
    assert sorted(
        (s.name, s.parent.span_id if s.parent else None, (s.attributes or {})[count])
        for s in producer_spans
    ) == sorted(
        [
            ("deliveries publish", a1_span.get_span_context().span_id, 5),
            ("results publish", a1_span.get_span_context().span_id, 1),
            ("deliveries publish", a2_span.get_span_context().span_id, 3),
            ("channels publish", a2_span.get_span_context().span_id, 1),
        ]
    )
    parents = {
        (s.name, s.parent.span_id if s.parent else None): s.context.span_id for s in producer_spans
    }
    a1_deliveries = parents[("deliveries publish", a1_span.get_span_context().span_id)]
    first = producer.sent[0]
    headers = _headers(first)
    assert first["key"] == b"ch-0"
    assert first["topic"] == "deliveries"
    assert AnnouncementCancelled.model_validate_json(first["value"]) == items[0].event
    assert headers["ce_type"] == "id.siaran.announcement.cancelled.v1"
    assert headers["ce_source"] == "siaran/router"
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert headers["ce_time"]
    assert set(headers) == {*ce_headers(_cancelled("a"), source="s"), "traceparent"}
    trace_id = f"{a1_span.get_span_context().trace_id:032x}"
    assert headers["traceparent"].startswith(f"00-{trace_id}-{a1_deliveries:016x}-")
    assert len({_headers(r)["traceparent"] for r in producer.sent[:5]}) == 1
    assert len({_headers(r)["ce_id"] for r in producer.sent[:-1]}) == 9
    tombstone = producer.sent[-1]
    assert tombstone["value"] is None
    assert tombstone["key"] == b"ch-9"
    assert "ce_type" not in _headers(tombstone)


async def test_without_a_context_the_current_one_is_the_parent() -> None:
    tracer, exporter = _tracer()
    producer = RecordingProducer()
    with tracer.start_as_current_span("release") as release:
        await _produce(producer, [Outgoing("d", "k", _cancelled("x"))] * 3, tracer)
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    assert span.parent is not None
    assert span.parent.span_id == release.get_span_context().span_id


async def test_a_failed_send_fails_the_call_and_marks_the_span() -> None:
    tracer, exporter = _tracer()
    producer = RecordingProducer()
    producer.fail_at = 2
    items = [Outgoing("d", f"k{n}", _cancelled(f"x{n}")) for n in range(4)]
    with pytest.raises(ConnectionError):
        await _produce(producer, items, tracer)
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    assert not span.status.is_ok


def _cancelled(announcement_id: str) -> AnnouncementCancelled:
    return AnnouncementCancelled(announcement_id=announcement_id, cancelled_by="test")


def test_event_ids_name_the_delivery_and_the_announcement() -> None:
    accepted = AnnouncementAccepted(
        announcement=Announcement(id="a1", title="t", body="b", target=Target(national=True)),
        submitted_by="x",
    )
    task = DeliveryPlanned(
        delivery_id="a1:c1", announcement_id="a1", channel_id="c1", region="73.03",
        province="73", kind="web", endpoint="https://example.go.id/h", title="t", text="t",
        accepted_at=datetime.now(UTC),
    )  # fmt: skip
    assert event_ids(accepted) == ["a1"]
    assert event_ids(task) == ["a1:c1", "a1"]
    assert event_ids(_cancelled("a2")) == ["a2"]
    assert event_ids(None) == []


async def test_in_context_records_carry_the_given_context_and_start_no_span() -> None:
    tracer, exporter = _tracer()
    producer = RecordingProducer()
    with tracer.start_as_current_span("publisher deliver") as deliver:
        context = trace.set_span_in_context(deliver)
    items = [Outgoing("results", "a1", _cancelled("a1"), event_id=f"e{n}") for n in range(2)]
    acked = await queue_all(producer, "siaran/publisher", items, InContext(context))
    assert acked is not None
    await acked
    assert not [s for s in exporter.get_finished_spans() if s.kind is SpanKind.PRODUCER]
    ids = f"{deliver.get_span_context().trace_id:032x}-{deliver.get_span_context().span_id:016x}"
    assert [_headers(r)["traceparent"][3:-3] for r in producer.sent] == [ids, ids]
    assert [_headers(r)["ce_id"] for r in producer.sent] == ["e0", "e1"]
