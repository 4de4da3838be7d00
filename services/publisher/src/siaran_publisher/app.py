"""publisher: posts every delivery task to its channel, once, and reports the outcome."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from siaran_shared.events import DeliveryPlanned
from siaran_shared.events.topics import CHANNEL_HEALTH, DELIVERIES, DELIVERIES_RETRY, RESULTS
from siaran_shared.kafka import (
    Outgoing,
    Poison,
    dead_letter,
    decode,
    publish_all,
    trace_context,
)
from siaran_shared.logging import get_logger
from siaran_shared.metric_names import CHANNEL_CIRCUIT_STATE
from siaran_shared.service import Runtime, build_runtime, create_service_app
from siaran_shared.settings import Settings
from siaran_shared.telemetry import gauge, tracer
from siaran_shared.tracing import remember

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.backoff import RetryPolicy
from siaran_publisher.breaker import Breakers
from siaran_publisher.claims import INDEXES, Claims
from siaran_publisher.config import PublisherSettings, publisher_settings
from siaran_publisher.consumer import ConcurrentConsumer
from siaran_publisher.deliver import Deliverer
from siaran_publisher.guard import GuardedResolver
from siaran_publisher.records import ResultsProducer, read_task, record_headers
from siaran_publisher.scheduler import Scheduler
from siaran_publisher.secrets import Secrets
from siaran_publisher.webhook import WebhookSender, event_id

log = get_logger(__name__)


def build_deliverer(runtime: Runtime, settings: PublisherSettings) -> Deliverer:
    """The delivery logic wired to this runtime's store and the settings."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    lease = timedelta(seconds=settings.claim_lease_seconds)
    guard = GuardedResolver(settings.endpoint_allowlist)
    return Deliverer(
        claims=Claims(runtime.store.collection("deliveries", INDEXES), owner, lease),
        secrets=Secrets(settings.secrets_dir),
        webhooks=WebhookSender(
            connect_timeout=settings.webhook_connect_timeout_seconds,
            read_timeout=settings.webhook_read_timeout_seconds,
            pool=max(256, settings.publisher_max_in_flight * 2),
            guard=guard,
        ),
        apprise=AppriseSender(guard),
        allowlist=tuple(settings.endpoint_allowlist),
        policy=RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            max_age=timedelta(seconds=settings.retry_max_age_seconds),
            base=settings.retry_base_seconds,
            cap=settings.retry_max_delay_seconds,
        ),
        breakers=Breakers(settings.breaker_failures, settings.breaker_cooldown_seconds),
        slots=asyncio.Semaphore(settings.publisher_max_in_flight),
        inline_wait=settings.publisher_inline_wait_seconds,
        send_timeout=settings.send_timeout_seconds,
    )


class Pipeline:
    """A raw record in; outcomes, health changes and dead letters out, before it counts
    as finished (and its offset may be committed).

    Tracing costs one span per delivery: "publisher deliver" (kind CLIENT: the delivery is
    a call to the channel), a child of the record's `traceparent`. The webhook request and
    the outcome records carry that span's `traceparent`, so the channel's server and the
    metrics service continue the announcement's trace from it."""

    def __init__(self, runtime: Runtime, deliverer: Deliverer) -> None:
        self._broker = runtime.broker
        self._source = runtime.source
        self.deliverer = deliverer
        self._circuit_gauge = gauge(CHANNEL_CIRCUIT_STATE)
        self._kinds_reported: set[str] = set()
        self._tracer = tracer()  # looked up once: get_tracer per record showed in the profile
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
                acked = await self._results.send(
                    [
                        Outgoing(RESULTS, o.announcement_id, o,
                                 event_id=f"{event_id(task)}:{o.status}")
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
        changes = self.deliverer.breakers.drain_changes()
        breakers = self.deliverer.breakers
        # every state of a kind is reported (0 included) from its first channel on
        new_kinds = breakers.kinds() - self._kinds_reported
        self._kinds_reported |= new_kinds
        for kind in {c.kind for c in changes} | new_kinds:
            for state, count in self.deliverer.breakers.counts(kind).items():
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


def create_app(settings: Settings | None = None) -> FastAPI:
    config = publisher_settings(settings)
    runtime = build_runtime("publisher", config)
    config = publisher_settings(runtime.settings)
    deliverer = build_deliverer(runtime, config)
    pipeline = Pipeline(runtime, deliverer)
    consumer = ConcurrentConsumer(
        runtime.settings,
        (DELIVERIES, DELIVERIES_RETRY),
        pipeline.process,
        channel_concurrency=config.publisher_channel_concurrency,
        workers=config.publisher_max_in_flight,
        max_pending=config.publisher_max_pending,
        commit_interval=config.publisher_commit_interval_seconds,
        drain_seconds=config.publisher_drain_seconds,
    )
    scheduler = Scheduler(
        deliverer.claims, pipeline.requeue, poll=config.publisher_schedule_poll_seconds
    )
    runtime.run_in_background("deliveries", consumer.run)
    runtime.run_in_background("schedule", scheduler.run)
    runtime.run_in_background("delivery_tally", deliverer.tally.run)
    runtime.on_start.append(deliverer.webhooks.start)
    runtime.on_stop.append(deliverer.webhooks.close)
    app = create_service_app(
        runtime,
        title="Siaran publisher",
        description="Posts deliveries to webhooks and Apprise channels; health and metrics.",
    )
    app.state.runtime = runtime
    app.state.pipeline = pipeline
    app.state.scheduler = scheduler
    return app
