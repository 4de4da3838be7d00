"""Kafka helpers: broker factory, CloudEvents binary-mode headers, batched publishing,
decoding with dead-lettering of poison records, trace context per record, topic creation."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.publisher.state import RealProducer
from faststream.middlewares import AckPolicy
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, StatusCode
from pydantic import ValidationError

from siaran_shared.events import ChannelRemoved, Event, utcnow
from siaran_shared.events.topics import DLQ, TOPICS, TopicSpec
from siaran_shared.kafka_client import aiokafka_options
from siaran_shared.logging import get_logger
from siaran_shared.metric_names import DLQ as DLQ_METRIC
from siaran_shared.settings import Settings
from siaran_shared.telemetry import counter
from siaran_shared.tracing import context_for, event_ids, record_context, remember

E = TypeVar("E", bound=Event)
log = get_logger(__name__)

CONTENT_TYPE = "application/json"
Handler = Callable[..., Awaitable[None]]
Header = tuple[str, bytes]
#: Per-partition record batch size of the producer. aiokafka keeps one produce request in
#: flight per broker and a request carries one batch per partition, so the 16 KiB default
#: (about a dozen deliveries) makes a national fan-out dozens of round trips; 256 KiB stays
#: well below Kafka's default `message.max.bytes` (1 MiB).
MAX_BATCH_BYTES = 256 * 1024


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


def producer_options(settings: Settings) -> dict[str, Any]:
    """Durability of every produce: acknowledged by all in-sync replicas, and idempotent
    (no duplicate on a retried send) where the broker supports it; the bundled broker
    does not (aiokafka's idempotent producer fails at start against it)."""
    return {"acks": "all", "enable_idempotence": not settings.bundled_broker}


def make_broker(settings: Settings) -> KafkaBroker:
    """A FastStream Kafka broker with security and trace propagation from settings.

    FastStream logs through `siaran.faststream`: handler errors (ERROR, with the
    traceback) and commit failures (CRITICAL); its two lines per batch handled at DEBUG.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"siaran-{settings.service}",
        security=_security(settings),
        **producer_options(settings),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())],
        linger_ms=2,
        max_batch_size=MAX_BATCH_BYTES,
        logger=logging.getLogger("siaran.faststream"),
        log_level=logging.DEBUG,
    )


@dataclass
class Backoff:
    """The pause after a handler failed, before its batch is consumed again: doubling
    from `base` seconds up to `cap`, back to `base` after a success. Without it a failing
    handler (the store away) retries its batch as fast as the broker answers."""

    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    failures: int = 0

    async def failed(self, handler: str) -> None:
        """Count a failure and wait before the retry."""
        self.failures += 1
        delay = min(self.cap, self.base * 2 ** (self.failures - 1))
        log.warning("handler_backing_off", handler=handler, failures=self.failures, delay=delay)
        await self.sleep(delay)

    def succeeded(self) -> None:
        """Reset after a handled batch."""
        self.failures = 0


def _with_backoff(handler: Handler, backoff: Backoff) -> Handler:
    @functools.wraps(handler)
    async def handle(*args: Any, **kwargs: Any) -> None:
        try:
            await handler(*args, **kwargs)
        except Exception:
            await backoff.failed(handler.__name__)
            raise
        backoff.succeeded()

    return handle


#: Long-poll wait of consumers of one-partition topics (aiokafka's default).
IDLE_FETCH_WAIT_MS = 500
_PARTITIONS = {spec.name: spec.partitions for spec in TOPICS}


def subscriber(
    broker: KafkaBroker,
    settings: Settings,
    *topics: str,
    max_records: int = 500,
    grouped: bool = True,
    gather_ms: int | None = None,
    backoff: Backoff | None = None,
) -> Callable[[Handler], Any]:
    """A batch subscriber with Siaran's consumer options.

    Offsets are committed only after the handler returned, that is after its output was
    produced (at least once); an exception nacks the batch so it is consumed again, after
    a pause that grows while the handler keeps failing (`Backoff`).
    `grouped=False` makes every instance read every record from the start (registries).
    `gather_ms` lets the broker hold a fetch up to that long until 64 KiB are ready: fewer,
    fuller batches (fewer fetches, commits and store transactions) for a consumer whose
    latency matters less than its cost (the metrics ledger).
    """
    wait = settings.kafka_fetch_max_wait_ms
    fetch_wait = max(wait, gather_ms or 0)
    if all(_PARTITIONS.get(t) == 1 for t in topics):
        # A one-partition topic ends a long poll as soon as a record arrives, also on the
        # bundled broker (which, with several partitions, holds it to the end; hence the
        # short default): registries and health need not poll 100 times a second.
        fetch_wait = max(fetch_wait, IDLE_FETCH_WAIT_MS)
    subscribe = broker.subscriber(
        *topics,
        batch=True,
        decoder=_raw_records,
        group_id=settings.consumer_group if grouped else None,
        max_records=max_records,
        batch_timeout_ms=fetch_wait,  # getmany returns at once when records are there
        fetch_max_wait_ms=fetch_wait,
        fetch_min_bytes=64 * 1024 if gather_ms else 1,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(settings.kafka_session_timeout_ms // 3, 300),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    return lambda handler: subscribe(_with_backoff(handler, backoff or Backoff()))


async def _raw_records(msg: Any) -> Any:
    """The batch's records as consumed: every handler validates them itself (`decode`), so
    FastStream's own decoding of each record's body (JSON) would be work thrown away."""
    return msg.raw_message


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


def aiokafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The connected aiokafka producer behind a FastStream broker, else None.

    None before `connect()`, after `stop()` and under the in-memory TestKafkaBroker (which
    swaps in a fake producer). FastStream 0.7 has no public accessor: `broker.config.producer`
    is its `AioKafkaFastProducerImpl`, holding a `RealProducer` state once connected.
    `shared/tests/test_kafka_fast_path.py` checks this path against the installed FastStream,
    so an upgrade that moves it fails a test instead of silently taking the slow path.
    """
    state = getattr(broker.config.producer, "_producer", None)
    if not isinstance(state, RealProducer) or state.closed:
        return None
    producer = state.producer
    return producer if isinstance(producer, AIOKafkaProducer) else None


async def publish_all(broker: KafkaBroker, source: str, items: Iterable[Outgoing]) -> int:
    """Queue every send without waiting, then await all acknowledgements once.

    Each record is produced in its trace context (`Outgoing.context`, else that of the
    consumed record it derives from, else the current one), so its `traceparent` continues
    the announcement's trace. On a connected broker the records go straight to the aiokafka
    producer with one producer span per (trace context, topic) in the call, whose
    `traceparent` all its records share: a fan-out of thousands of deliveries costs a few
    spans, not thousands. Elsewhere (the in-memory test broker) each goes through
    `broker.publish` and FastStream's middlewares.
    """
    producer = aiokafka_producer(broker)
    if producer is None:
        return await _publish_each(broker, source, items)
    return await _produce_all(producer, source, items)


class _ProducerSpans:
    """One PRODUCER span per (trace context, topic), and the trace headers it injects."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer
        self._current = otel_context.get_current()
        # keyed by the context object's id; the context itself is kept alive in the value
        self._groups: dict[tuple[int, str], tuple[otel_context.Context, Span, list[Header]]] = {}
        self._counts: dict[tuple[int, str], int] = {}

    def headers(self, context: otel_context.Context | None, topic: str) -> list[Header]:
        context = context if context is not None else self._current
        group = (id(context), topic)
        found = self._groups.get(group)
        if found is None:
            span = self._tracer.start_span(
                f"{topic} publish",
                context=context,
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": topic,
                    "messaging.operation": "publish",
                },
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span, context))
            found = (context, span, [(k, v.encode()) for k, v in carrier.items()])
            self._groups[group] = found
            self._counts[group] = 0
        self._counts[group] += 1
        return found[2]

    def end(self, error: BaseException | None = None) -> None:
        for group, (_, span, _) in self._groups.items():
            span.set_attribute("messaging.batch.message_count", self._counts[group])
            if error is not None:
                span.record_exception(error)
                span.set_status(StatusCode.ERROR, type(error).__name__)
            span.end()


class _CloudEventHeaders:
    """`ce_headers` as Kafka headers for the records of one call: what they share (source,
    time, content type, the type per event class) is encoded once."""

    def __init__(self, source: str) -> None:
        self._shared: list[Header] = [
            (k, v.encode())
            for k, v in ce_headers(Event(), source=source).items()
            if k not in ("ce_id", "ce_type")
        ]
        self._types: dict[str, Header] = {}

    def __call__(self, event: Event, event_id: str | None) -> list[Header]:
        ce_type = self._types.get(event.event_type)
        if ce_type is None:
            ce_type = self._types[event.event_type] = ("ce_type", event.event_type.encode())
        ce_id = ("ce_id", (event_id or uuid.uuid4().hex).encode())
        return [ce_id, ce_type, *self._shared]


async def _produce_all(
    producer: AIOKafkaProducer,
    source: str,
    items: Iterable[Outgoing],
    tracer: trace.Tracer | None = None,
) -> int:
    spans = _ProducerSpans(tracer or trace.get_tracer("siaran"))
    cloudevents = _CloudEventHeaders(source)
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
            headers += spans.headers(item.context or context_for(event), item.topic)
            key = item.key.encode() if item.key is not None else None
            futures.append(await producer.send(item.topic, value, key=key, headers=headers))
        if futures:
            await asyncio.gather(*futures)
    except BaseException as exc:
        for future in futures:  # nobody awaits them any more: keep their errors quiet
            future.add_done_callback(_retrieve)
        spans.end(exc)
        raise
    spans.end()
    return len(futures)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def _publish_each(broker: KafkaBroker, source: str, items: Iterable[Outgoing]) -> int:
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
    # Records produced together share a `traceparent` (a fan-out's deliveries): one arrival
    # span per (parent, topic) in the batch, not one per record.
    arrivals: dict[tuple[str | None, str], otel_context.Context] = {}
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
        arrival = (headers.get("traceparent"), raw.topic)
        context = arrivals.get(arrival)
        if context is None:
            context = arrivals[arrival] = record_context(headers, raw.topic, ids)
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
    """Send poison records to the DLQ with their original bytes, headers (less those that
    may carry credentials: `is_sensitive`) and the reason."""
    futures = []
    dlq_total = counter(DLQ_METRIC)
    for p in poison:
        dlq_total.add(
            1, {"service": source.removeprefix("siaran/"), "reason": reason_kind(p.reason)}
        )
        headers = {k: v for k, v in _headers(p.raw).items() if not is_sensitive(k)}
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


#: Header names (or parts of them, case-insensitive) that carry credentials: a dead letter
#: never copies them (the inbound topic's `authorization` holds an API key).
SENSITIVE_HEADER_PARTS = (
    "authorization", "cookie", "token", "secret", "password", "credential", "api-key",
    "api_key", "apikey", "signature",
)  # fmt: skip


def is_sensitive(header: str) -> bool:
    """Whether a record header may carry a credential, judged by its name."""
    name = header.lower()
    return any(part in name for part in SENSITIVE_HEADER_PARTS)


def reason_kind(reason: str) -> str:
    """A low-cardinality label for a dead-letter reason: the word before the first colon."""
    head = reason.split(":", 1)[0].strip().lower()
    return head if head.replace("_", "").isalpha() and len(head) <= 32 else "other"


def trace_context(headers: Mapping[str, str]) -> otel_context.Context:
    """The OpenTelemetry context a record's `traceparent` header carries."""
    return propagate.extract(headers)


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(client_id="siaran-admin", **aiokafka_options(settings))
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
