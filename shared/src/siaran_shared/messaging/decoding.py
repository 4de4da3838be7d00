"""Consumed records validated into events; what cannot be is poison, with the reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from opentelemetry import context as otel_context
from pydantic import ValidationError

from siaran_shared.events import ChannelRemoved, Event, utcnow
from siaran_shared.messaging.headers import decode_headers
from siaran_shared.tracing import event_ids, record_context, remember

E = TypeVar("E", bound=Event)


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
        headers = decode_headers(raw)
        if not raw.value and ChannelRemoved in models and key:
            removed = ChannelRemoved(channel_id=key, removed_at=_stamp(raw))
            good.append(Record(removed, key, headers))
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


def _stamp(raw: Any) -> datetime:
    """When the record was produced (a tombstone has no body to say when), else now."""
    timestamp = getattr(raw, "timestamp", None)
    if isinstance(timestamp, int) and timestamp > 0:
        return datetime.fromtimestamp(timestamp / 1000, UTC)
    return utcnow()
