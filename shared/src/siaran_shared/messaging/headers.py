"""Record headers in one place: CloudEvents 1.0 Kafka binary mode (`ce_*`), decoding a
consumed record's headers, the trace context they carry, and which may hold credentials."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate

from siaran_shared.events import Event, utcnow

CONTENT_TYPE = "application/json"
Header = tuple[str, bytes]

#: Header names (or parts of them, case-insensitive) that carry credentials: a dead letter
#: never copies them (the inbound topic's `authorization` holds an API key).
SENSITIVE_HEADER_PARTS = (
    "authorization", "cookie", "token", "secret", "password", "credential", "api-key",
    "api_key", "apikey", "signature",
)  # fmt: skip


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


class CloudEventHeaders:
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


def decode_headers(raw: Any) -> dict[str, str]:
    """A consumed record's headers as text (an aiokafka ConsumerRecord's, or alike)."""
    return {k: v.decode(errors="replace") for k, v in (raw.headers or ())}


def trace_context(headers: Mapping[str, str]) -> otel_context.Context:
    """The OpenTelemetry context a record's `traceparent` header carries."""
    return propagate.extract(headers)


def trace_headers(context: otel_context.Context | None) -> list[Header]:
    """The `traceparent` (and `tracestate`) headers of a context (None: the current one)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return [(k, v.encode()) for k, v in carrier.items()]


def is_sensitive(header: str) -> bool:
    """Whether a record header may carry a credential, judged by its name."""
    name = header.lower()
    return any(part in name for part in SENSITIVE_HEADER_PARTS)
