"""The catalogue's Prometheus names are what the installed OpenTelemetry exporter produces."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest
from siaran_shared.metric_names import (
    ALL_METRICS,
    PROMETHEUS_SERIES,
    InstrumentKind,
    MetricSpec,
)

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? ")
_LABEL = re.compile(r'(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"')


def _record(provider: MeterProvider, spec: MetricSpec) -> None:
    meter = provider.get_meter("siaran")
    attributes = {label: "x" for label in spec.labels}
    if spec.kind is InstrumentKind.COUNTER:
        meter.create_counter(spec.name, spec.unit, spec.description).add(1, attributes)
    elif spec.kind is InstrumentKind.HISTOGRAM:
        meter.create_histogram(
            spec.name,
            spec.unit,
            spec.description,
            explicit_bucket_boundaries_advisory=spec.buckets,
        ).record(1.0, attributes)
    else:
        meter.create_gauge(spec.name, spec.unit, spec.description).set(1, attributes)


@pytest.fixture
def exposition() -> Iterator[str]:
    """/metrics text of a process that recorded one value on every catalogued instrument."""
    registry = CollectorRegistry()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "test"}),
        metric_readers=[PrometheusMetricReader(registry=registry)],
    )
    for spec in ALL_METRICS.values():
        _record(provider, spec)
    try:
        yield generate_latest(registry).decode()
    finally:
        provider.shutdown()


def _samples(exposition: str) -> dict[str, set[str]]:
    """Series name -> label names seen, from Prometheus text format."""
    series: dict[str, set[str]] = {}
    for line in exposition.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = {m["name"] for m in _LABEL.finditer(match["labels"] or "")}
            series.setdefault(match["name"], set()).update(labels)
    return series


def test_exported_series_are_exactly_the_catalogued_ones(exposition: str) -> None:
    exported = set(_samples(exposition)) - {"target_info"}
    assert exported == PROMETHEUS_SERIES


def test_exported_series_carry_the_catalogued_labels(exposition: str) -> None:
    samples = _samples(exposition)
    for spec in ALL_METRICS.values():
        for series in spec.prometheus_series:
            labels = samples[series] - {"otel_scope_name", "otel_scope_version"}
            labels -= {"otel_scope_schema_url"}
            expected = set(spec.labels) | ({"le"} if series.endswith("_bucket") else set())
            assert labels == expected, series


def test_histograms_use_the_catalogued_buckets(exposition: str) -> None:
    for spec in ALL_METRICS.values():
        if spec.kind is not InstrumentKind.HISTOGRAM:
            continue
        assert spec.buckets, spec.name
        bounds = re.findall(rf'^{spec.prometheus_name}_bucket\{{.*le="([^"]+)"', exposition, re.M)
        assert bounds == [*(str(b) for b in spec.buckets), "+Inf"], spec.name


def test_exposition_passes_promtool_lint(promtool: str, exposition: str) -> None:
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_names_and_labels_are_prometheus_friendly() -> None:
    for spec in ALL_METRICS.values():
        assert re.fullmatch(r"siaran_[a-z0-9_]+", spec.name), spec.name
        assert not spec.name.endswith("_total"), "counters get _total from the exporter"
        for label in spec.labels:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", label), (spec.name, label)
            assert label not in {"job", "instance", "le"}, "reserved by Prometheus"
            assert not label.endswith("_id"), "ids are unbounded: never a label"
