"""The one way Siaran produces: every record queued without waiting, its acknowledgements
awaited together, in the trace context a span policy gives it.

On a connected broker the records go straight to the aiokafka producer behind FastStream
(a fan-out of thousands of deliveries is thousands of buffer appends, not requests).
Elsewhere (the in-memory test broker) each goes through `broker.publish` and FastStream's
middlewares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.state import RealProducer
from opentelemetry import context as otel_context

from siaran_shared.events import Event
from siaran_shared.messaging.headers import CloudEventHeaders, Header, ce_headers
from siaran_shared.messaging.spans import SpanPerContext, SpanPolicy
from siaran_shared.telemetry import tracer

__all__ = ["Outgoing", "SpanPolicy", "aiokafka_producer", "publish_all", "send_all"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event to publish: where, keyed by what."""

    topic: str
    key: str | None
    event: Event | None  # None is a tombstone (compacted topics)
    event_id: str | None = None
    #: trace context to produce in; default: that of the consumed record sharing an id
    #: with the event (see tracing.py), else the current one
    context: otel_context.Context | None = None


def aiokafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The connected aiokafka producer behind a FastStream broker, else None.

    None before `connect()`, after `stop()` and under the in-memory TestKafkaBroker (which
    swaps in a fake producer). FastStream 0.7 has no public accessor: `broker.config.producer`
    is its `AioKafkaFastProducerImpl`, holding a `RealProducer` state once connected.
    `shared/tests/test_producer.py` checks this path against the installed FastStream,
    so an upgrade that moves it fails a test instead of silently taking the slow path.
    """
    state = getattr(broker.config.producer, "_producer", None)
    if not isinstance(state, RealProducer) or state.closed:
        return None
    producer = state.producer
    return producer if isinstance(producer, AIOKafkaProducer) else None


async def publish_all(
    broker: KafkaBroker, source: str, items: Iterable[Outgoing], spans: SpanPolicy | None = None
) -> int:
    """Produce every item and wait for the broker's acknowledgement of all; the count.

    By default each record is produced in its trace context (`Outgoing.context`, else that
    of the consumed record it derives from, else the current one) under one producer span
    per (trace context, topic) in the call, whose `traceparent` all its records share.
    """
    items = list(items)
    acked = await send_all(broker, source, items, spans)
    if acked is not None:
        await acked
    return len(items)


async def send_all(
    broker: KafkaBroker, source: str, items: Iterable[Outgoing], spans: SpanPolicy | None = None
) -> asyncio.Future[Any] | None:
    """Queue every item to the producer; what to await for the broker's acknowledgement of
    all of them (None: already acknowledged, or nothing sent). The caller need not wait."""
    spans = spans if spans is not None else SpanPerContext(tracer())
    producer = aiokafka_producer(broker)
    if producer is None:  # not connected to a real broker: FastStream's own path
        await _publish_each(broker, source, items, spans)
        return None
    return await queue_all(producer, source, items, spans)


async def queue_all(
    producer: AIOKafkaProducer, source: str, items: Iterable[Outgoing], spans: SpanPolicy
) -> asyncio.Future[Any] | None:
    """`send_all` on an aiokafka producer; the spans end with the acknowledgements."""
    cloudevents = CloudEventHeaders(source)
    futures: list[asyncio.Future[Any]] = []
    try:
        for item in items:
            event = item.event
            if event is None:  # a tombstone: no value, no CloudEvents headers
                value: bytes | None = None
                headers: list[Header] = []
            else:
                value = event.model_dump_json().encode()
                headers = cloudevents(event, item.event_id)
            headers += spans.headers(spans.context(item), item.topic)
            key = item.key.encode() if item.key is not None else None
            futures.append(await producer.send(item.topic, value, key=key, headers=headers))
    except BaseException as exc:
        for future in futures:  # nobody awaits them any more: keep their errors quiet
            future.add_done_callback(_retrieve)
        spans.end(exc)
        raise
    if not futures:
        spans.end()
        return None
    acked = futures[0] if len(futures) == 1 else asyncio.gather(*futures)
    acked.add_done_callback(lambda done: spans.end(_retrieve(done)))
    return acked


def _retrieve(future: asyncio.Future[Any]) -> BaseException | None:
    if future.cancelled():
        return asyncio.CancelledError()
    return future.exception()


async def _publish_each(
    broker: KafkaBroker, source: str, items: Iterable[Outgoing], spans: SpanPolicy | None = None
) -> int:
    """Each item through `broker.publish` (FastStream's middlewares), all awaited at once."""
    spans = spans if spans is not None else SpanPerContext(tracer())
    futures: list[asyncio.Future[Any]] = []
    count = 0
    for item in items:
        if item.event is None:
            body: bytes | None = None
            headers: dict[str, str] = {}
        else:
            body = item.event.model_dump_json().encode()
            headers = ce_headers(item.event, source=source, event_id=item.event_id)
        context = spans.context(item)
        token = otel_context.attach(context) if context is not None else None
        try:
            future = await broker.publish(
                body,
                item.topic,
                key=item.key.encode() if item.key is not None else None,
                headers=headers,
                no_confirm=True,
            )
        finally:
            if token is not None:
                otel_context.detach(token)
        count += 1
        if future is not None:  # the in-memory test broker delivers at once
            futures.append(future)
    if futures:
        await asyncio.gather(*futures)
    return count
