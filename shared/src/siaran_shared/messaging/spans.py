"""Span policies of the producer: which trace context a record is produced in, and what
trace headers it carries.

`SpanPerContext` (the default) starts one PRODUCER span per (trace context, topic) of a
call, whose `traceparent` all those records share: a fan-out of thousands of deliveries
costs a few spans, not thousands. `InContext` starts none: the records carry the given
context's `traceparent` (the publisher's delivery span is already the call to the channel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from siaran_shared.messaging.headers import Header, trace_headers
from siaran_shared.tracing import context_for

if TYPE_CHECKING:
    from siaran_shared.messaging.producer import Outgoing

Context = otel_context.Context


class SpanPolicy(Protocol):
    """What the producer asks about tracing, per record and once at the end."""

    def context(self, item: Outgoing) -> Context | None:
        """The trace context to produce `item` in (None: the current one)."""

    def headers(self, context: Context | None, topic: str) -> list[Header]:
        """The trace headers of a record produced in `context` to `topic`."""

    def end(self, error: BaseException | None = None) -> None:
        """All records are acknowledged, or `error` ended the call."""


class SpanPerContext:
    """One PRODUCER span per (trace context, topic), and the trace headers it injects.

    A record's context is `Outgoing.context`, else that of the consumed record sharing an
    id with its event (tracing.py), else the context current when the policy was made."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer
        self._current = otel_context.get_current()
        # keyed by the context object's id; the context itself is kept alive in the value
        self._groups: dict[tuple[int, str], tuple[Context, Span, list[Header]]] = {}
        self._counts: dict[tuple[int, str], int] = {}

    def context(self, item: Outgoing) -> Context | None:
        return item.context or context_for(item.event)

    def headers(self, context: Context | None, topic: str) -> list[Header]:
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
        self._groups.clear()


class InContext:
    """No span of its own: every record carries `context`'s trace headers."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._headers = trace_headers(context)

    def context(self, item: Outgoing) -> Context | None:
        return self._context

    def headers(self, context: Context | None, topic: str) -> list[Header]:
        return self._headers

    def end(self, error: BaseException | None = None) -> None:
        return None
