"""The publisher's own hot path in and out of Kafka: a delivery task read straight from the
record's bytes, and outcomes produced straight to the broker's producer under the trace
context of the delivery that produced them.

The shared `decode` and `publish_all` each start a span per record (a "record" span for
every decoded record, a producer span per trace context); the publisher, handling records
one by one at thousands per second, has exactly one span per delivery instead (see
app.Pipeline). Anything unusual (poison, the in-memory test broker) still goes through the
shared functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import propagate
from opentelemetry.context import Context
from pydantic import ValidationError
from siaran_shared.events import DeliveryPlanned
from siaran_shared.kafka import Outgoing, aiokafka_producer, ce_headers, publish_all

_TASK_TYPE = DeliveryPlanned.event_type


def record_headers(raw: Any) -> dict[str, str]:
    """A consumed record's headers as text."""
    return {k: v.decode(errors="replace") for k, v in (raw.headers or ())}


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
        producer = aiokafka_producer(self._broker)
        if producer is None:  # not connected to a real broker: FastStream's own path
            in_context = [replace(item, context=context) for item in items]
            await publish_all(self._broker, self._source, in_context)
            return None
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=context)
        trace_headers = [(k, v.encode()) for k, v in carrier.items()]
        futures: list[asyncio.Future[Any]] = []
        try:
            for item in items:
                if item.event is None:
                    continue
                headers = [
                    (k, v.encode())
                    for k, v in ce_headers(item.event, source=self._source,
                                           event_id=item.event_id).items()
                ]  # fmt: skip
                key = item.key.encode() if item.key is not None else None
                value = item.event.model_dump_json().encode()
                futures.append(
                    await producer.send(item.topic, value, key=key, headers=headers + trace_headers)
                )
        except BaseException:
            for future in futures:  # nobody awaits them any more: keep their errors quiet
                future.add_done_callback(_retrieve)
            raise
        return futures[0] if len(futures) == 1 else asyncio.gather(*futures)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
