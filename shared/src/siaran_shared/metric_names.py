"""The catalogue of every metric Siaran exports: the contract between services and dashboards.

Services create their OpenTelemetry instruments from these specs (name, unit, description,
bucket boundaries) and record only the listed attributes; Grafana dashboards and Prometheus
alert rules query only the Prometheus series names derived here. `tests/observability` checks
both sides: that the installed OpenTelemetry Prometheus exporter turns each spec into exactly
the series listed, and that every dashboard and alert expression names a catalogued series.

How a name travels from an instrument to Prometheus (opentelemetry-exporter-prometheus 0.66b1
with prometheus-client 0.26, checked by the tests):

- the unit is mapped (``s`` -> ``seconds``; ``1`` and UCUM annotations such as ``{delivery}``
  -> nothing) and appended as ``_<unit>`` unless the name already ends with it;
- a counter gets ``_total`` (never twice), so counter instruments are named without it;
- a histogram becomes ``<name>_bucket`` (with label ``le``), ``<name>_sum`` and ``<name>_count``;
- gauges, synchronous or observable, and up-down counters become a plain gauge series.

Labels on every series: the instrument's attributes listed here, ``otel_scope_name`` /
``otel_scope_version`` / ``otel_scope_schema_url`` added by the exporter, and ``job`` /
``instance`` added by Prometheus at scrape time. The scrape job is named after the service
(``ingest``, ``router``, ``publisher``, ``metrics``; see ``deploy/prometheus/prometheus.yml``),
so ``job`` is the service; the OpenTelemetry resource (``service.name`` ...) is exported once
per process as ``target_info``, not as labels. Metrics that two services both emit and that
must stay apart in one OTLP pipeline carry an explicit ``service`` attribute as well.

Attribute values come from small fixed sets (statuses, kinds, 38 provinces plus ``ID`` for
national channels): never announcement ids, channel ids or free text.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


class InstrumentKind(StrEnum):
    """Which OpenTelemetry instrument to create; gauges may be synchronous or observable."""

    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"


class MetricSpec(NamedTuple):
    """One instrument: what to pass to the OpenTelemetry meter, and what Prometheus shows."""

    name: str
    kind: InstrumentKind
    unit: str
    description: str
    labels: tuple[str, ...]
    exported_by: tuple[str, ...]
    buckets: tuple[float, ...] | None = None

    @property
    def prometheus_name(self) -> str:
        """The Prometheus metric family name the exporter derives from this instrument."""
        return prometheus_base_name(self.name, self.unit, self.kind)

    @property
    def prometheus_series(self) -> frozenset[str]:
        """Every series name this instrument produces on /metrics."""
        base = self.prometheus_name
        if self.kind is InstrumentKind.HISTOGRAM:
            return frozenset({f"{base}_bucket", f"{base}_sum", f"{base}_count"})
        return frozenset({base})


# The subset of the exporter's unit mapping this catalogue uses; any other unit is refused so
# that a new one is checked against the exporter before it reaches a dashboard.
_UNIT_SUFFIXES = {"s": "seconds", "1": ""}


def prometheus_base_name(name: str, unit: str, kind: InstrumentKind) -> str:
    """Mirror the exporter's naming: unit suffix, then ``_total`` for counters."""
    if unit.startswith("{") and unit.endswith("}"):
        suffix = ""
    elif unit in _UNIT_SUFFIXES:
        suffix = _UNIT_SUFFIXES[unit]
    else:
        raise ValueError(f"unit {unit!r} of {name} is not in the catalogue's unit mapping")
    if suffix and not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    if kind is InstrumentKind.COUNTER and not name.endswith("_total"):
        name = f"{name}_total"
    return name


# Label values, so that producers and queries agree on spelling.
DELIVERY_STATUSES = ("delivered", "failed", "expired", "cancelled", "skipped")
ANNOUNCEMENT_STATUSES = ("accepted", "rejected", "duplicate", "cancelled")
CIRCUIT_STATES = ("closed", "open", "half_open", "needs_reconnect")
PRIORITIES = ("normal", "high", "urgent")
SERVICES = ("ingest", "router", "publisher", "metrics")
NATIONAL_PROVINCE = "ID"
"""The ``province`` label value of national channels (region ``ID``)."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DELIVERY_BUCKETS = (
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
)
_FANOUT_BUCKETS = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)

# Instrument names, for `meter().create_counter(DELIVERIES, ...)` and friends.
DELIVERIES = "siaran_deliveries"
DELIVERY_SECONDS = "siaran_delivery_seconds"
FANOUT_CHANNELS = "siaran_fanout_channels"
CHANNEL_CIRCUIT_STATE = "siaran_channel_circuit_state"
CHANNELS_ACTIVE = "siaran_channels_active"
DLQ = "siaran_dlq"
CONSUMER_LAG = "siaran_consumer_lag"
ANNOUNCEMENTS = "siaran_announcements"
PENDING_DELIVERIES = "siaran_pending_deliveries"
HTTP_REQUESTS = "siaran_http_requests"
HTTP_REQUEST_SECONDS = "siaran_http_request_seconds"
STORE_WRITES = "siaran_store_writes"
STORE_DOCUMENTS_WRITTEN = "siaran_store_documents_written"

_SPECS = (
    MetricSpec(
        DELIVERIES,
        InstrumentKind.COUNTER,
        "{delivery}",
        "Delivery outcomes recorded in the ledger, once per delivery id.",
        ("status", "kind", "province"),
        ("metrics",),
    ),
    MetricSpec(
        DELIVERY_SECONDS,
        InstrumentKind.HISTOGRAM,
        "s",
        "Time from the announcement's acceptance to a channel's delivery.",
        ("kind",),
        ("metrics",),
        _DELIVERY_BUCKETS,
    ),
    MetricSpec(
        FANOUT_CHANNELS,
        InstrumentKind.HISTOGRAM,
        "{channel}",
        "Channels one announcement was planned for.",
        ("priority",),
        ("router",),
        _FANOUT_BUCKETS,
    ),
    MetricSpec(
        CHANNEL_CIRCUIT_STATE,
        InstrumentKind.GAUGE,
        "{channel}",
        "Channels in each circuit-breaker state (every state reported, 0 included).",
        ("kind", "state"),
        ("publisher",),
    ),
    MetricSpec(
        CHANNELS_ACTIVE,
        InstrumentKind.GAUGE,
        "{channel}",
        "Enabled channels per province and kind. Every province (and ID) is reported for"
        " every kind in the registry, 0 included, so provinces without channels show up.",
        ("province", "kind"),
        ("metrics",),
    ),
    MetricSpec(
        DLQ,
        InstrumentKind.COUNTER,
        "{message}",
        "Messages sent to siaran.dlq.v1.",
        ("service", "reason"),
        ("ingest", "router", "publisher"),
    ),
    MetricSpec(
        CONSUMER_LAG,
        InstrumentKind.GAUGE,
        "{message}",
        "Messages behind the end of the topic, summed over this consumer's partitions.",
        ("group", "topic"),
        SERVICES,
    ),
    MetricSpec(
        ANNOUNCEMENTS,
        InstrumentKind.COUNTER,
        "{announcement}",
        "Announcement submissions by outcome.",
        ("status",),
        ("ingest",),
    ),
    MetricSpec(
        PENDING_DELIVERIES,
        InstrumentKind.GAUGE,
        "{delivery}",
        "Planned deliveries in the ledger with no final outcome yet.",
        (),
        ("metrics",),
    ),
    MetricSpec(
        HTTP_REQUESTS,
        InstrumentKind.COUNTER,
        "{request}",
        "HTTP requests served, by route template (never the raw path).",
        ("service", "method", "route", "status"),
        SERVICES,
    ),
    MetricSpec(
        HTTP_REQUEST_SECONDS,
        InstrumentKind.HISTOGRAM,
        "s",
        "HTTP request duration, by route template.",
        ("service", "route"),
        SERVICES,
        _LATENCY_BUCKETS,
    ),
    MetricSpec(
        STORE_WRITES,
        InstrumentKind.COUNTER,
        "{write}",
        "Store writes that succeeded (round trips: a group commit of many documents is one), "
        "by collection and operation (put, insert, update, increment, delete, prune).",
        ("service", "collection", "operation"),
        SERVICES,
    ),
    MetricSpec(
        STORE_DOCUMENTS_WRITTEN,
        InstrumentKind.COUNTER,
        "{document}",
        "Documents those writes carried (for prune: the documents removed).",
        ("service", "collection", "operation"),
        SERVICES,
    ),
)

ALL_METRICS: Mapping[str, MetricSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
"""Every instrument, by OpenTelemetry instrument name."""

PROMETHEUS_SERIES: frozenset[str] = frozenset(
    series for spec in _SPECS for series in spec.prometheus_series
)
"""Every Prometheus series name the services export (besides ``target_info`` and ``up``)."""
