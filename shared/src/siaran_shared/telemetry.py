"""OpenTelemetry setup: traces and metrics, Prometheus /metrics, OTLP when configured."""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from typing import IO

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from siaran_shared.metric_names import ALL_METRICS, STORE_DOCUMENTS_WRITTEN, STORE_WRITES
from siaran_shared.store.base import DOCUMENTS_WRITTEN, WRITES

_configured: str | None = None
_trace_file: IO[str] | None = None
#: Whether spans are recorded (False once configured with nowhere to send them).
_recording = True


def _one_line(span: ReadableSpan) -> str:
    try:
        text = span.to_json()
    except TypeError:  # bytes attributes (Kafka message keys) are not JSON: show them as text
        attributes = {
            k: v.decode(errors="replace") if isinstance(v, bytes) else v
            for k, v in (span.attributes or {}).items()
        }
        text = ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=span.events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        ).to_json()
    return json.dumps(json.loads(text), separators=(",", ":")) + "\n"


def setup_telemetry(service: str) -> None:
    """Install the global tracer and meter providers once per process.

    Spans go to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and to a JSON-lines file when
    SIARAN_TRACES_FILE is set (used by the end-to-end trace test); with neither, no span is
    recorded (ids still propagate). Metrics are always readable on /metrics and pushed over
    OTLP when configured.
    """
    global _configured, _trace_file, _recording
    if _configured is not None:
        return
    _configured = service
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service)})
    readers: list[MetricReader] = [PrometheusMetricReader()]
    processors: list[SpanProcessor] = []
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processors.append(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    traces_file = os.environ.get("SIARAN_TRACES_FILE")
    if traces_file:
        _trace_file = open(traces_file, "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
        processors.append(
            SimpleSpanProcessor(ConsoleSpanExporter(out=_trace_file, formatter=_one_line))
        )
    # With nowhere to send spans, record none: spans still get ids, so `traceparent` headers
    # and the trace ids in log lines stay, but nothing builds span objects nobody reads.
    sampler = None if processors else ALWAYS_OFF
    _recording = bool(processors)
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    observe_store_writes(service)


def observe_store_writes(service: str, source: metrics.Meter | None = None) -> None:
    """siaran_store_writes and siaran_store_documents_written, read from the store's own
    counts when metrics are collected (no instrument call on the write path)."""

    def reading(counts: Counter[tuple[str, str]]) -> metrics.CallbackT:
        def observe(_: metrics.CallbackOptions) -> list[metrics.Observation]:
            return [
                metrics.Observation(n, {"service": service, "collection": c, "operation": op})
                for (c, op), n in list(counts.items())
            ]

        return observe

    observed_counter(STORE_WRITES, reading(WRITES), source)
    observed_counter(STORE_DOCUMENTS_WRITTEN, reading(DOCUMENTS_WRITTEN), source)


def shutdown_telemetry() -> None:
    """Flush spans and metrics before the process exits."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    meter_provider = metrics.get_meter_provider()
    if isinstance(meter_provider, MeterProvider):
        meter_provider.shutdown()


def meter() -> metrics.Meter:
    """The meter every Siaran instrument is created from."""
    return metrics.get_meter("siaran")


def spans_recorded() -> bool:
    """Whether the process records spans (it records none with nowhere to send them)."""
    return _recording


@functools.cache
def tracer() -> trace.Tracer:
    """The tracer for Siaran's own spans; looked up once (`get_tracer` compares
    instrumentation scopes on every call: 3 % of ingest's CPU when it ran per request). A
    tracer taken before the provider is set follows it once it is."""
    return trace.get_tracer("siaran")


def counter(name: str, source: metrics.Meter | None = None) -> metrics.Counter:
    """A counter created from its entry in the metric catalogue (from `source`, a test's
    meter, when given)."""
    spec = ALL_METRICS[name]
    return (source or meter()).create_counter(
        spec.name, unit=spec.unit, description=spec.description
    )


def histogram(name: str, source: metrics.Meter | None = None) -> metrics.Histogram:
    """A histogram created from the catalogue, with its bucket boundaries."""
    spec = ALL_METRICS[name]
    return (source or meter()).create_histogram(
        spec.name,
        unit=spec.unit,
        description=spec.description,
        explicit_bucket_boundaries_advisory=list(spec.buckets) if spec.buckets else None,
    )


def observed_counter(
    name: str, callback: metrics.CallbackT, source: metrics.Meter | None = None
) -> metrics.ObservableCounter:
    """A counter from the catalogue whose totals `callback` reports at each collection
    (for counts kept where a synchronous add on every event would cost too much)."""
    spec = ALL_METRICS[name]
    return (source or meter()).create_observable_counter(
        spec.name, callbacks=[callback], unit=spec.unit, description=spec.description
    )


def gauge(name: str, source: metrics.Meter | None = None) -> metrics._Gauge:
    """A synchronous gauge created from the catalogue."""
    spec = ALL_METRICS[name]
    return (source or meter()).create_gauge(spec.name, unit=spec.unit, description=spec.description)
