"""The publisher's own hot path in and out of Kafka: a delivery task read straight from the
record's bytes, and outcomes produced under the trace context of the delivery that produced
them.

The shared `decode` starts a "record" span for every decoded record and `publish_all` a
producer span per trace context; the publisher, handling records one by one at thousands
per second, has exactly one span per delivery instead (see app.Pipeline), so its outcomes
are produced without a span of their own, each with its delivery's `traceparent`, and in
batches: the outcomes of every delivery ending in one turn of the event loop go to the
producer in one call. Poison still goes through the shared decoder, which says why.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.context import Context
from pydantic import ValidationError
from siaran_shared.events import DeliveryPlanned
from siaran_shared.messaging import Outgoing, decode_headers, send_all
from siaran_shared.messaging.headers import Header, trace_headers

_TASK_TYPE = DeliveryPlanned.event_type
#: The scheme and host of a task's endpoint, read from the record's bytes without parsing it.
_HOST = re.compile(rb'"endpoint":"([a-zA-Z][a-zA-Z0-9+.-]*://[^/"?#]*)')


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


def host_of(raw: Any) -> str:
    """The scheme and host a record's task is sent to ("" when it has none): the work pool
    keeps each host's share of the sends by it. A lane's name only, never logged."""
    found = _HOST.search(raw.value or b"")
    return found.group(1).decode(errors="replace").lower() if found else ""


class OwnContexts:
    """The producer's span policy for outcomes: no span of their own, each record carries
    the `traceparent` of its own delivery's span (`Outgoing.context`)."""

    def __init__(self) -> None:
        self._headers: dict[int, list[Header]] = {}

    def context(self, item: Outgoing) -> Context | None:
        return item.context

    def headers(self, context: Context | None, topic: str) -> list[Header]:
        if context is None:
            return []
        found = self._headers.get(id(context))
        if found is None:  # the outcomes of one delivery share their delivery's headers
            found = self._headers[id(context)] = trace_headers(context)
        return found

    def end(self, error: BaseException | None = None) -> None:
        self._headers.clear()


class ResultsProducer:
    """Produces outcome records in batches: the outcomes of the deliveries that end in the
    same moment go to the producer in one call, each with its delivery span's
    `traceparent`, and share one acknowledgement."""

    def __init__(self, broker: KafkaBroker, source: str) -> None:
        self._broker = broker
        self._source = source
        self._pending: list[Outgoing] = []
        self._batch: asyncio.Future[None] | None = None
        #: outcome batches produced, and the records in them (what batching saves)
        self.batches = 0
        self.records = 0

    def send(self, items: Sequence[Outgoing], context: Context) -> asyncio.Future[None]:
        """Queue the events for the next batch; the future of the broker's acknowledgement
        of that batch (an error if it was not). The caller need not wait: a record's
        offset may be committed once it is done."""
        self._pending.extend(replace(item, context=context) for item in items)
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush)
        return self._batch

    def _flush(self) -> None:
        """Send what was queued in this turn of the event loop, as one batch."""
        items, self._pending = self._pending, []
        batch, self._batch = self._batch, None
        assert batch is not None
        self.batches += 1
        self.records += len(items)
        task = asyncio.ensure_future(send_all(self._broker, self._source, items, OwnContexts()))
        task.add_done_callback(lambda sent: _settle(batch, sent))


def _settle(batch: asyncio.Future[None], sent: asyncio.Future[Any]) -> None:
    """The batch's future follows the producer: its acknowledgement, or why it failed."""
    error = _error(sent)
    if error is not None:
        batch.set_exception(error)
        return
    acked = sent.result()
    if acked is None:  # acknowledged already
        batch.set_result(None)
        return
    asyncio.ensure_future(acked).add_done_callback(lambda done: _acknowledged(batch, done))


def _acknowledged(batch: asyncio.Future[None], acked: asyncio.Future[Any]) -> None:
    error = _error(acked)
    if error is None:
        batch.set_result(None)
    else:
        batch.set_exception(error)


def _error(future: asyncio.Future[Any]) -> BaseException | None:
    return asyncio.CancelledError() if future.cancelled() else future.exception()
