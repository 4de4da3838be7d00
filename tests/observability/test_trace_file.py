"""The JSON-lines span file (SIARAN_TRACES_FILE) keeps spans with bytes attributes."""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import TracerProvider
from siaran_shared.telemetry import _one_line  # the file exporter's formatter


def test_span_with_a_bytes_kafka_key_is_written_as_one_json_line() -> None:
    span = (
        TracerProvider()
        .get_tracer("t")
        .start_span(
            "siaran.deliveries.v1 publish", attributes={"messaging.kafka.message.key": b"ch-1"}
        )
    )
    span.end()
    line = _one_line(span)  # type: ignore[arg-type]
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line)["attributes"]["messaging.kafka.message.key"] == "ch-1"
