"""metrics: the delivery ledger, reports and coverage, and delivery metrics."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.metrics import Meter
from siaran_shared.events.topics import DLQ
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Poison, dead_letter, subscriber
from siaran_shared.retention import prune_in_background
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_metrics.api import router
from siaran_metrics.completion_wiring import completion_in_background
from siaran_metrics.config import metrics_settings
from siaran_metrics.dead_letters import DeadLetters
from siaran_metrics.dead_letters_api import router as dead_letters_router
from siaran_metrics.handlers import Handlers, Instruments
from siaran_metrics.ledger import ledger_on
from siaran_metrics.registry import Registry

log = get_logger(__name__)

#: Seconds between recomputations of the registry and pending gauges.
GAUGE_INTERVAL = 5.0


async def gauges_loop(handlers: Handlers, interval: float) -> None:
    """Recompute the gauges every `interval` seconds for the service's lifetime."""
    while True:
        try:
            await handlers.refresh_gauges()
        except Exception:  # a store hiccup must not end the loop; the next round retries
            log.exception("gauges_refresh_failed")
        await asyncio.sleep(interval)


def create_app(
    settings: Settings | None = None,
    *,
    gauge_interval: float = GAUGE_INTERVAL,
    meter: Meter | None = None,
) -> FastAPI:
    """The metrics service; `meter` replaces the process's meter (tests read exact counts)."""
    runtime = build_runtime("metrics", metrics_settings(settings))
    store = runtime.store
    retention = prune_in_background(runtime)
    ledger = ledger_on(store, retention)
    registry = Registry(
        store.collection("channels", indexes=("region",)), store.collection("channel_health")
    )

    async def refuse(poison: list[Poison]) -> None:
        await dead_letter(runtime.broker, runtime.source, poison)

    completer, callbacks = completion_in_background(
        runtime, ledger, retention.keep("ledger", "completed_at")
    )
    handlers = Handlers(ledger, registry, Instruments.create(meter), refuse, completer)
    dead_letters = DeadLetters(
        store.collection(
            "dead_letters",
            indexes=("received_at", "origin_topic"),
            expiry=retention.keep("dead_letters", "received_at"),
        )
    )
    handlers.by_topic[DLQ] = dead_letters.record

    runtime.run_in_background("gauges", functools.partial(gauges_loop, handlers, gauge_interval))

    # One consumer for the five topics: one group member joins once, not four rebalances.
    # Fuller batches (up to 100 ms): the ledger may lag a little, each batch costs a commit
    # and a store transaction however small it is.
    @subscriber(
        runtime.broker, runtime.settings, *handlers.by_topic, max_records=2000, gather_ms=100
    )
    async def on_records(_: Any, msg: KafkaMessage) -> None:
        await handlers.on_batch(msg.raw_message)

    app = create_service_app(
        runtime,
        title="Siaran metrics",
        description="Delivery reports per announcement, coverage of the regions, metrics.",
    )
    app.state.handlers = handlers
    app.state.callbacks = callbacks
    app.state.runtime = runtime
    app.include_router(router)
    app.state.dead_letters = dead_letters
    app.include_router(dead_letters_router)
    return app
