"""publisher: posts every delivery task to its channel, once, and reports the outcome."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Sequence
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaMessage
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from siaran_shared.events import ChannelConfigured, ChannelRemoved, DeliveryPlanned
from siaran_shared.events.topics import (
    CHANNEL_HEALTH,
    CHANNELS,
    DELIVERIES,
    DELIVERIES_RETRY,
    RESULTS,
)
from siaran_shared.logging import get_logger
from siaran_shared.messaging import (
    Outgoing,
    Poison,
    dead_letter,
    decode,
    publish_all,
    subscriber,
    trace_context,
)
from siaran_shared.metric_names import CHANNEL_CIRCUIT_STATE
from siaran_shared.retention import prune_in_background
from siaran_shared.service import Runtime, build_runtime, create_service_app
from siaran_shared.settings import Settings
from siaran_shared.telemetry import gauge, tracer
from siaran_shared.tracing import remember

from siaran_publisher.channels import CurrentChannels
from siaran_publisher.claims import INDEXES
from siaran_publisher.config import publisher_settings
from siaran_publisher.consumer import ConcurrentConsumer
from siaran_publisher.records import ResultsProducer, host_of, read_task, record_headers
from siaran_publisher.scheduler import Scheduler
from siaran_publisher.webhook import outcome_key
from siaran_publisher.wiring import Delivery, assemble, sends_at_once

log = get_logger(__name__)


class Pipeline:
    """A raw record in; outcomes, health changes and dead letters out, before it counts
    as finished (and its offset may be committed).

    Tracing costs one span per delivery: "publisher deliver" (kind CLIENT: the delivery is
    a call to the channel), a child of the record's `traceparent`. The webhook request and
    the outcome records carry that span's `traceparent`, so the channel's server and the
    metrics service continue the announcement's trace from it."""

    def __init__(self, runtime: Runtime, delivery: Delivery) -> None:
        self._broker = runtime.broker
        self._source = runtime.source
        self.deliverer = delivery.deliverer
        self.breakers = delivery.breakers
        self._circuit_gauge = gauge(CHANNEL_CIRCUIT_STATE)
        self._kinds_reported: set[str] = set()
        self._tracer = tracer()  # looked up once, not per record
        self._results = ResultsProducer(runtime.broker, runtime.source)

    async def process(self, raw: Any) -> Awaitable[Any] | None:
        """Handle one record; what to await before its offset counts as done (the broker's
        acknowledgement of its outcome records), if anything."""
        task = read_task(raw)
        if task is None:  # poison: the shared decoder says why, and it is dead-lettered
            _, poison = decode([raw], DeliveryPlanned)
            await dead_letter(self._broker, self._source, poison)
            return None
        headers = record_headers(raw)
        with self._tracer.start_as_current_span(
            "publisher deliver", context=trace_context(headers), kind=SpanKind.CLIENT,
            attributes={"siaran.delivery_id": task.delivery_id, "siaran.attempt": task.attempt},
        ):  # fmt: skip
            context = otel_context.get_current()
            # a retry re-queued later (scheduler) continues this trace
            remember({task.delivery_id: context})
            handled = await self.deliverer.handle(task, headers)
            acked = None
            if handled.results:
                acked = self._results.send(
                    [
                        Outgoing(RESULTS, o.announcement_id, o,
                                 event_id=f"{outcome_key(o)}:{o.status}")
                        for o in handled.results
                    ],
                    context,
                )  # fmt: skip
            changes = self._health_changes()
            if changes:
                await publish_all(self._broker, self._source, changes)
            if handled.dead_letter:
                await dead_letter(self._broker, self._source, [Poison(raw, handled.dead_letter)])
            return acked

    def _health_changes(self) -> list[Outgoing]:
        breakers = self.breakers
        changes = breakers.drain_changes()
        # every state of a kind is reported (0 included) from its first channel on
        new_kinds = breakers.kinds() - self._kinds_reported
        self._kinds_reported |= new_kinds
        for kind in {c.kind for c in changes} | new_kinds:
            for state, count in breakers.counts(kind).items():
                self._circuit_gauge.set(count, {"kind": kind, "state": state})
        for c in changes:
            log.info("channel_health_changed", channel_id=c.channel_id, state=c.state.value,
                     failures=c.consecutive_failures, reason=c.reason)  # fmt: skip
        return [Outgoing(CHANNEL_HEALTH, c.channel_id, c) for c in changes]

    async def requeue(self, tasks: Sequence[DeliveryPlanned]) -> None:
        """Put due tasks back on the retry topic, keyed by channel."""
        await publish_all(
            self._broker,
            self._source,
            (Outgoing(DELIVERIES_RETRY, t.channel_id, t) for t in tasks),
        )


def follow_channels(runtime: Runtime, channels: CurrentChannels) -> None:
    """Keep `channels` at the registry's latest state: every instance reads the whole
    compacted topic from its start, then each change as it comes."""

    @subscriber(runtime.broker, runtime.settings, CHANNELS, grouped=False)
    async def on_channels(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelConfigured, ChannelRemoved)
        for record in records:
            event = record.event
            if isinstance(event, ChannelConfigured):
                channels.apply(event.channel.id, event.channel, event.configured_at)
            elif isinstance(event, ChannelRemoved):
                channels.apply(event.channel_id, None, event.removed_at)
        if poison:
            await dead_letter(runtime.broker, runtime.source, poison)


def create_app(settings: Settings | None = None) -> FastAPI:
    config = publisher_settings(settings)
    runtime = build_runtime("publisher", config)
    config = publisher_settings(runtime.settings)
    retention = prune_in_background(runtime)
    delivery = assemble(
        runtime.store.collection("deliveries", INDEXES, expiry=retention.keep("claims")),
        config,
        owner=f"{socket.gethostname()}:{os.getpid()}",
        posts=runtime.store.collection("platform_posts", expiry=retention.keep("claims", "at")),
    )
    pipeline = Pipeline(runtime, delivery)
    consumer = ConcurrentConsumer(
        runtime.settings,
        (DELIVERIES, DELIVERIES_RETRY),
        pipeline.process,
        channel_concurrency=config.publisher_channel_concurrency,
        workers=sends_at_once(config),
        host_share=config.publisher_host_concurrency,
        host_of=host_of,
        max_pending=config.publisher_max_pending,
        max_held_bytes=int(config.publisher_max_held_mb * 2**20),
        commit_interval=config.publisher_commit_interval_seconds,
        drain_seconds=config.publisher_drain_seconds,
    )
    scheduler = Scheduler(
        delivery.claims.schedule, pipeline.requeue, poll=config.publisher_schedule_poll_seconds
    )
    follow_channels(runtime, delivery.channels)
    runtime.run_in_background("deliveries", consumer.run)
    runtime.run_in_background("schedule", scheduler.run)
    runtime.run_in_background("delivery_tally", delivery.tally.run)
    runtime.on_start.append(delivery.transport.start)
    runtime.on_stop.append(delivery.transport.close)
    app = create_service_app(
        runtime,
        title="Siaran publisher",
        description="Posts deliveries to webhooks and Apprise channels; health and metrics.",
    )
    app.state.runtime = runtime
    app.state.delivery = delivery
    return app
