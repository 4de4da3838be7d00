"""Kafka helpers: broker factory, CloudEvents binary-mode headers, batched publishing,
decoding with dead-lettering of poison records, trace context per record, topic creation."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from pydantic import ValidationError

from siaran_shared.events import ChannelRemoved, Event, utcnow
from siaran_shared.events.topics import DLQ, TOPICS, TopicSpec
from siaran_shared.logging import get_logger
from siaran_shared.metric_names import DLQ as DLQ_METRIC
from siaran_shared.settings import Settings
from siaran_shared.telemetry import counter
from siaran_shared.tracing import context_for, event_ids, record_context, remember

E = TypeVar("E", bound=Event)
log = get_logger(__name__)

CONTENT_TYPE = "application/json"


def _security(settings: Settings) -> BaseSecurity | None:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = (
        ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
        if protocol.endswith("SSL")
        else None
    )
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    user = settings.kafka_sasl_username or ""
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    mechanism = settings.kafka_sasl_mechanism or "PLAIN"
    cls = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return cls[mechanism](user, password, ssl_context=context)


def make_broker(settings: Settings) -> KafkaBroker:
    """A FastStream Kafka broker with security and trace propagation from settings."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"siaran-{settings.service}",
        security=_security(settings),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())],
        linger_ms=2,
        logger=None,
    )


def subscriber(
    broker: KafkaBroker,
    settings: Settings,
    *topics: str,
    max_records: int = 500,
    grouped: bool = True,
) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """A batch subscriber with Siaran's consumer options.

    Offsets are committed only after the handler returned, that is after its output was
    produced (at least once); an exception nacks the batch so it is consumed again.
    `grouped=False` makes every instance read every record from the start (registries).
    """
    wait = settings.kafka_fetch_max_wait_ms
    return broker.subscriber(
        *topics,
        batch=True,
        group_id=settings.consumer_group if grouped else None,
        max_records=max_records,
        batch_timeout_ms=wait,
        fetch_max_wait_ms=wait,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(settings.kafka_session_timeout_ms // 3, 300),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )


def ce_headers(event: Event, *, source: str, event_id: str | None = None) -> dict[str, str]:
    """CloudEvents 1.0 Kafka binary-mode headers for an event."""
    return {
        "ce_specversion": "1.0",
        "ce_id": event_id or uuid.uuid4().hex,
        "ce_source": source,
        "ce_type": event.event_type,
        "ce_time": utcnow().isoformat(),
        "content-type": CONTENT_TYPE,
    }


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


async def publish_all(broker: KafkaBroker, source: str, items: Iterable[Outgoing]) -> int:
    """Queue every send without waiting, then await all acknowledgements once.

    Each record is produced in its trace context (`Outgoing.context`, else that of the
    consumed record it derives from), so its `traceparent` continues the announcement's trace.
    """
    futures: list[asyncio.Future[Any]] = []
    count = 0
    for item in items:
        if item.event is None:
            body: bytes | None = None
            headers: dict[str, str] = {}
        else:
            body = item.event.model_dump_json().encode()
            headers = ce_headers(item.event, source=source, event_id=item.event_id)
        context = item.context or context_for(item.event)
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


@dataclass(frozen=True, slots=True)
class Record(Generic[E]):
    """A decoded record: the event plus what is needed to trace it."""

    event: E
    key: str | None
    headers: Mapping[str, str]
    #: the record's trace context: a child span of its traceparent (see tracing.py)
    context: otel_context.Context | None = None


@dataclass(frozen=True, slots=True)
class Poison:
    """A record that cannot be processed, ever: it goes to the dead-letter topic."""

    raw: Any  # aiokafka ConsumerRecord
    reason: str


def _headers(raw: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (raw.headers or ())}


def decode(raws: Sequence[Any], *models: type[Event]) -> tuple[list[Record[Any]], list[Poison]]:
    """Validate each raw record as one of `models` (chosen by its ce_type header).

    Bad bytes, unknown types, schemas or versions become Poison for the dead-letter topic.
    An empty value (a tombstone) becomes ChannelRemoved when that model is accepted.
    Each good record gets its trace context, remembered for what the batch publishes.
    """
    by_type = {m.event_type: m for m in models}
    good: list[Record[Any]] = []
    bad: list[Poison] = []
    contexts: dict[str, otel_context.Context] = {}
    for raw in raws:
        key = raw.key.decode(errors="replace") if raw.key else None
        headers = _headers(raw)
        if not raw.value and ChannelRemoved in models and key:
            good.append(Record(ChannelRemoved(channel_id=key), key, headers))
            continue
        ce_type = headers.get("ce_type")
        model = by_type.get(ce_type) if ce_type else (models[0] if len(models) == 1 else None)
        if model is None:
            wanted = ", ".join(by_type)
            bad.append(Poison(raw, f"unexpected ce_type {ce_type!r}; this topic carries {wanted}"))
            continue
        try:
            event = model.model_validate_json(raw.value or b"")
        except ValidationError as exc:
            bad.append(Poison(raw, _describe(exc)))
            continue
        ids = event_ids(event)
        context = record_context(headers, raw.topic, ids)
        good.append(Record(event, key, headers, context))
        contexts.update(dict.fromkeys(ids, context))
    remember(contexts)
    return good, bad


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid event: " + "; ".join(parts)


async def dead_letter(broker: KafkaBroker, source: str, poison: Sequence[Poison]) -> None:
    """Send poison records to the DLQ with their original bytes, headers and the reason."""
    futures = []
    dlq_total = counter(DLQ_METRIC)
    for p in poison:
        dlq_total.add(
            1, {"service": source.removeprefix("siaran/"), "reason": reason_kind(p.reason)}
        )
        headers = _headers(p.raw)
        headers.update(
            {
                "siaran-error": p.reason[:1000],
                "siaran-origin-topic": p.raw.topic,
                "siaran-origin-partition": str(p.raw.partition),
                "siaran-origin-offset": str(p.raw.offset),
                "siaran-dead-lettered-by": source,
                "siaran-dead-lettered-at": utcnow().isoformat(),
            }
        )
        log.warning(
            "dead_lettered", origin_topic=p.raw.topic, offset=p.raw.offset, reason=p.reason[:300]
        )
        future = await broker.publish(
            p.raw.value or b"", DLQ, key=p.raw.key, headers=headers, no_confirm=True
        )
        if future is not None:
            futures.append(future)
    if futures:
        await asyncio.gather(*futures)


def reason_kind(reason: str) -> str:
    """A low-cardinality label for a dead-letter reason: the word before the first colon."""
    head = reason.split(":", 1)[0].strip().lower()
    return head if head.replace("_", "").isalpha() and len(head) <= 32 else "other"


def trace_context(headers: Mapping[str, str]) -> otel_context.Context:
    """The OpenTelemetry context a record's `traceparent` header carries."""
    return propagate.extract(headers)


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id="siaran-admin"
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created = []
        for spec in missing:
            try:
                await admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, 1, topic_configs=dict(spec.configs))]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()
