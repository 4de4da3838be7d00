"""A consumed record's trace context: a child span of its traceparent when spans are
recorded; the traceparent's own context when they are not (nothing would read the span)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from siaran_shared import telemetry, tracing
from siaran_shared.tracing import record_context

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
HEADERS = {"traceparent": f"00-{TRACE}-{PARENT}-01"}


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Spans kept in memory by the tracer record_context uses."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", lambda: provider.get_tracer("test"))
    yield exporter
    provider.shutdown()


def recording(on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """As telemetry configures the process: spans recorded, or not (ALWAYS_OFF: nowhere
    to send them)."""
    monkeypatch.setattr(telemetry, "_recording", on)
    if not on:
        provider = TracerProvider(sampler=ALWAYS_OFF)
        monkeypatch.setattr(tracing, "tracer", lambda: provider.get_tracer("test"))


def span_of(context: Context) -> trace.SpanContext:
    return trace.get_current_span(context).get_span_context()


@pytest.mark.parametrize("on", [True, False], ids=["recorded", "unrecorded"])
def test_a_record_carries_its_traceparent_s_trace_on(
    on: bool, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(on, monkeypatch)
    context = record_context(HEADERS, "siaran.results.v1", ["a1:c1"])
    assert format(span_of(context).trace_id, "032x") == TRACE
    # a record without a traceparent starts a trace of its own (ids for the logs)
    fresh = record_context({}, "siaran.inbound.v1", [])
    assert span_of(fresh).is_valid
    assert format(span_of(fresh).trace_id, "032x") != TRACE


def test_recorded_a_record_gets_its_own_span_under_its_traceparent(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(True, monkeypatch)
    context = record_context(HEADERS, "siaran.results.v1", ["a1:c1", "a1"])
    [span] = spans.get_finished_spans()
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT
    assert span.attributes == {"messaging.destination.name": "siaran.results.v1",
                               "siaran.ids": "a1:c1 a1"}  # fmt: skip
    assert span_of(context).span_id == span.context.span_id


def test_unrecorded_a_record_makes_no_span_of_its_own(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(False, monkeypatch)
    context = record_context(HEADERS, "siaran.results.v1", ["a1:c1"])
    assert spans.get_finished_spans() == ()
    assert format(span_of(context).span_id, "016x") == PARENT
