"""The FastStream broker of a service and Siaran's subscriber policy: batches, commits
after the handler's output is produced, and a pause while a handler keeps failing."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.middlewares import AckPolicy
from opentelemetry import trace

from siaran_shared.events.topics import TOPICS
from siaran_shared.logging import get_logger
from siaran_shared.messaging.options import heartbeat_interval_ms, producer_options, security
from siaran_shared.settings import Settings

log = get_logger(__name__)

Handler = Callable[..., Awaitable[None]]
#: Per-partition record batch size of the producer. aiokafka keeps one produce request in
#: flight per broker and a request carries one batch per partition, so the 16 KiB default
#: (about a dozen deliveries) makes a national fan-out dozens of round trips; 256 KiB stays
#: well below Kafka's default `message.max.bytes` (1 MiB).
MAX_BATCH_BYTES = 256 * 1024
#: Long-poll wait of consumers of one-partition topics (aiokafka's default).
IDLE_FETCH_WAIT_MS = 500
_PARTITIONS = {spec.name: spec.partitions for spec in TOPICS}


def make_broker(settings: Settings) -> KafkaBroker:
    """A FastStream Kafka broker with security and trace propagation from settings.

    FastStream logs through `siaran.faststream`: handler errors (ERROR, with the
    traceback) and commit failures (CRITICAL); its two lines per batch handled at DEBUG.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"siaran-{settings.service}",
        security=security(settings),
        **producer_options(settings),
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=trace.get_tracer_provider())],
        linger_ms=2,
        max_batch_size=MAX_BATCH_BYTES,
        logger=logging.getLogger("siaran.faststream"),
        log_level=logging.DEBUG,
    )


@dataclass
class Backoff:
    """The pause after a handler failed, before its batch is consumed again: doubling
    from `base` seconds up to `cap`, back to `base` after a success. Without it a failing
    handler (the store away) retries its batch as fast as the broker answers."""

    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    failures: int = 0

    async def failed(self, handler: str) -> None:
        """Count a failure and wait before the retry."""
        self.failures += 1
        delay = min(self.cap, self.base * 2 ** (self.failures - 1))
        log.warning("handler_backing_off", handler=handler, failures=self.failures, delay=delay)
        await self.sleep(delay)

    def succeeded(self) -> None:
        """Reset after a handled batch."""
        self.failures = 0


def _with_backoff(
    handler: Handler, backoff: Backoff, rewind: Callable[[], Awaitable[None]] | None = None
) -> Handler:
    @functools.wraps(handler)
    async def handle(*args: Any, **kwargs: Any) -> None:
        try:
            await handler(*args, **kwargs)
        except Exception:
            await backoff.failed(handler.__name__)
            if rewind is not None:
                await rewind()
            raise
        backoff.succeeded()

    return handle


def subscriber(
    broker: KafkaBroker,
    settings: Settings,
    *topics: str,
    max_records: int = 500,
    grouped: bool = True,
    gather_ms: int | None = None,
    backoff: Backoff | None = None,
) -> Callable[[Handler], Any]:
    """A batch subscriber with Siaran's consumer options.

    Offsets are committed only after the handler returned, that is after its output was
    produced (at least once); an exception nacks the batch so it is consumed again, after
    a pause that grows while the handler keeps failing (`Backoff`).
    `grouped=False` makes every instance read every record from the start (registries).
    `gather_ms` lets the broker hold a fetch up to that long until 64 KiB are ready: fewer,
    fuller batches (fewer fetches, commits and store transactions) for a consumer whose
    latency matters less than its cost (the metrics ledger).
    """
    fetch_wait = max(settings.kafka_fetch_max_wait_ms, gather_ms or 0)
    if all(_PARTITIONS.get(t) == 1 for t in topics):
        # A one-partition topic ends a long poll as soon as a record arrives, also on the
        # bundled broker (which, with several partitions, holds it to the end; hence the
        # short default): registries and health need not poll 100 times a second.
        fetch_wait = max(fetch_wait, IDLE_FETCH_WAIT_MS)
    subscribe = broker.subscriber(
        *topics,
        batch=True,
        decoder=_raw_records,
        group_id=settings.consumer_group if grouped else None,
        max_records=max_records,
        batch_timeout_ms=fetch_wait,  # getmany returns at once when records are there
        fetch_max_wait_ms=fetch_wait,
        fetch_min_bytes=64 * 1024 if gather_ms else 1,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms(settings),
        auto_offset_reset="earliest",
        # An ungrouped reader has no group to commit to (aiokafka refuses: "Requires
        # group_id", which FastStream logs as CRITICAL after every batch): it acknowledges
        # nothing, and a failed batch is rewound (nacked) by hand, to be read again.
        ack_policy=AckPolicy.NACK_ON_ERROR if grouped else AckPolicy.MANUAL,
    )
    rewind = None if grouped else functools.partial(_rewind, broker)
    return lambda handler: subscribe(_with_backoff(handler, backoff or Backoff(), rewind))


async def _rewind(broker: KafkaBroker) -> None:
    """Seek the partitions of the batch being handled back to its first records."""
    message = broker.context.get_local("message")
    if message is not None:
        await message.nack()


async def _raw_records(msg: Any) -> Any:
    """The batch's records as consumed: every handler validates them itself (`decode`), so
    FastStream's own decoding of each record's body (JSON) would be work thrown away."""
    return msg.raw_message
