"""The publisher's own hot path in and out of Kafka: a delivery task read straight from the
record's bytes, and outcomes produced under the trace context of the delivery that produced
them.

The shared `decode` starts a "record" span for every decoded record and `publish_all` a
producer span per trace context; the publisher, handling records one by one at thousands
per second, has exactly one span per delivery instead (see app.Pipeline), so its outcomes
are produced with the shared producer's `InContext` policy (no span of their own). Poison
still goes through the shared decoder, which says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.context import Context
from pydantic import ValidationError
from siaran_shared.events import DeliveryPlanned
from siaran_shared.messaging import InContext, Outgoing, decode_headers, send_all

_TASK_TYPE = DeliveryPlanned.event_type


#: A consumed record's headers as text (the shared codec: headers are decoded in one place).
record_headers = decode_headers


def read_task(raw: Any) -> DeliveryPlanned | None:
    """The delivery task a record carries, validated from its bytes; None when it is not
    one (wrong ce_type, bad bytes or schema): poison, for the shared decoder to describe."""
    for name, value in raw.headers or ():
        if name == "ce_type" and value.decode(errors="replace") != _TASK_TYPE:
            return None
    try:
        return DeliveryPlanned.model_validate_json(raw.value or b"")
    except ValidationError:
        return None


class ResultsProducer:
    """Produces a delivery's outcome records with the delivery span's `traceparent`."""

    def __init__(self, broker: KafkaBroker, source: str) -> None:
        self._broker = broker
        self._source = source

    async def send(self, items: Sequence[Outgoing], context: Context) -> Awaitable[Any] | None:
        """Queue the events to the producer; what to await for the broker's acknowledgement
        of all of them (None: already acknowledged).

        The caller need not wait: a record's offset may be committed once it is done."""
        return await send_all(self._broker, self._source, items, InContext(context))
