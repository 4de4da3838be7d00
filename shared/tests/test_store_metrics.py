"""The store's write counts reach the catalogued counters, labelled by service, collection
and operation."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from siaran_shared.metric_names import STORE_DOCUMENTS_WRITTEN, STORE_WRITES
from siaran_shared.store.sqlite import SQLiteStore
from siaran_shared.telemetry import observe_store_writes


async def test_the_counters_report_what_the_store_wrote(tmp_path: Path) -> None:
    reader = InMemoryMetricReader()
    observe_store_writes("router", MeterProvider(metric_readers=[reader]).get_meter("t"))
    store = SQLiteStore(tmp_path / "s.db")
    await store.connect()
    try:
        await store.collection("observed_outbox").put_many({"a": {}, "b": {}, "c": {}})
    finally:
        await store.close()
    data = reader.get_metrics_data()
    assert data is not None
    points = {
        (metric.name, tuple(sorted(point.attributes.items()))): point.value
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        for point in metric.data.data_points  # type: ignore[union-attr]
    }
    labels = (("collection", "observed_outbox"), ("operation", "put"), ("service", "router"))
    assert points[STORE_WRITES, labels] == 1
    assert points[STORE_DOCUMENTS_WRITTEN, labels] == 3
