"""metrics: the delivery ledger, reports and coverage, and delivery metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared import metric_names as m
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    ChannelConfigured,
    ChannelHealthChanged,
    ChannelRemoved,
    DeliveryCompleted,
    DeliveryPlanned,
)
from siaran_shared.events.topics import (
    ANNOUNCEMENTS,
    CHANNEL_HEALTH,
    CHANNELS,
    DELIVERIES,
    RESULTS,
)
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Poison, dead_letter, decode, subscriber
from siaran_shared.retention import prune_in_background
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings
from siaran_shared.telemetry import counter, gauge, histogram

from siaran_metrics.api import router
from siaran_metrics.gauges import channels_active
from siaran_metrics.ledger import Ledger

log = get_logger(__name__)


#: Seconds between recomputations of the registry and pending gauges.
GAUGE_INTERVAL = 5.0


def create_app(
    settings: Settings | None = None, *, gauge_interval: float = GAUGE_INTERVAL
) -> FastAPI:
    runtime = build_runtime("metrics", settings)
    store, broker = runtime.store, runtime.broker
    retention = prune_in_background(runtime)
    ledger = Ledger(
        store.collection(
            "deliveries",
            indexes=("announcement_id", "status"),
            expiry=retention.keep("ledger", "completed_at"),
        ),
        store.collection(
            "announcements",
            indexes=("accepted_at",),
            expiry=retention.keep("ledger", "accepted_at"),
        ),
    )
    channels = store.collection("channels", indexes=("region",))
    channel_health = store.collection("channel_health")
    deliveries_total = counter(m.DELIVERIES)
    delivery_seconds = histogram(m.DELIVERY_SECONDS)
    active_gauge = gauge(m.CHANNELS_ACTIVE)
    pending_gauge = gauge(m.PENDING_DELIVERIES)
    kinds_seen: set[str] = set()

    async def refresh_gauges() -> None:
        for (province, kind), value in channels_active(await channels.find(), kinds_seen).items():
            active_gauge.set(value, {"province": province, "kind": kind})
        pending_gauge.set(await ledger.pending())

    async def gauges_loop() -> None:
        while True:
            try:
                await refresh_gauges()
            except Exception:  # a store hiccup must not end the loop; the next round retries
                log.exception("gauges_refresh_failed")
            await asyncio.sleep(gauge_interval)

    runtime.run_in_background("gauges", gauges_loop)

    # A record the ledger cannot read goes to the dead-letter topic with the reason, like
    # everywhere else (the header siaran-dead-lettered-by tells which consumer refused it).
    async def _dead_letter(poison: list[Poison]) -> None:
        if poison:
            await dead_letter(broker, runtime.source, poison)

    async def on_results(raws: list[Any]) -> None:
        records, poison = decode(raws, DeliveryCompleted)
        changed = await ledger.record_outcomes([r.event for r in records])
        counts: Counter[tuple[str, str, str]] = Counter()
        for outcome in changed:
            counts[outcome.status.value, outcome.kind, outcome.province] += 1
            if outcome.latency_seconds is not None:
                delivery_seconds.record(outcome.latency_seconds, {"kind": outcome.kind})
        for (status, kind, province), n in counts.items():  # one add per series, not per outcome
            deliveries_total.add(n, {"status": status, "kind": kind, "province": province})
        await _dead_letter(poison)

    async def on_deliveries(raws: list[Any]) -> None:
        records, poison = decode(raws, DeliveryPlanned)
        await ledger.record_planned([r.event for r in records])
        await _dead_letter(poison)

    async def on_announcements(raws: list[Any]) -> None:
        records, poison = decode(raws, AnnouncementAccepted, AnnouncementCancelled)
        await ledger.record_announcements(
            [r.event for r in records if isinstance(r.event, AnnouncementAccepted)]
        )
        await ledger.record_cancellations(
            [r.event.announcement_id for r in records if isinstance(r.event, AnnouncementCancelled)]
        )
        await _dead_letter(poison)

    async def on_channels(raws: list[Any]) -> None:
        records, poison = decode(raws, ChannelConfigured, ChannelRemoved)
        for record in records:
            if isinstance(record.event, ChannelConfigured):
                channel = record.event.channel
                await channels.put(channel.id, channel.model_dump(mode="json"))
            else:
                await channels.delete(record.event.channel_id)
        await _dead_letter(poison)

    async def on_health(raws: list[Any]) -> None:
        # Compacted topic keyed by channel id: an empty value forgets the channel's health.
        for raw in raws:
            if not raw.value and raw.key:
                await channel_health.delete(raw.key.decode(errors="replace"))
        records, poison = decode([r for r in raws if r.value], ChannelHealthChanged)
        latest: dict[str, ChannelHealthChanged] = {}
        for record in records:
            latest[record.event.channel_id] = record.event
        known = await channel_health.get_many(list(latest))
        docs = {}
        for channel_id, event in latest.items():
            before = known.get(channel_id)
            if before and before.get("changed_at", "") > event.changed_at.isoformat():
                continue  # an older state replayed after a newer one
            docs[channel_id] = {"id": channel_id} | event.model_dump(
                mode="json", include={"kind", "province", "state", "reason",
                                      "consecutive_failures", "changed_at"}
            )  # fmt: skip
        if docs:
            await channel_health.put_many(docs)
        await _dead_letter(poison)

    # Plans before outcomes within a batch; the ledger accepts either order anyway.
    handlers = {
        CHANNELS: on_channels,
        ANNOUNCEMENTS: on_announcements,
        DELIVERIES: on_deliveries,
        RESULTS: on_results,
        CHANNEL_HEALTH: on_health,
    }

    # One consumer for the five topics: one group member joins once, not four rebalances.
    # Fuller batches (up to 100 ms): the ledger may lag a little, each batch costs a commit
    # and a store transaction however small it is.
    @subscriber(broker, runtime.settings, *handlers, max_records=2000, gather_ms=100)
    async def on_records(_: Any, msg: KafkaMessage) -> None:
        by_topic: dict[str, list[Any]] = {}
        for raw in msg.raw_message:
            by_topic.setdefault(raw.topic, []).append(raw)
        for topic, handle in handlers.items():
            if topic in by_topic:
                await handle(by_topic[topic])

    app = create_service_app(
        runtime,
        title="Siaran metrics",
        description="Delivery reports per announcement, coverage of the regions, metrics.",
    )
    app.state.ledger = ledger
    app.state.channels = channels
    app.state.channel_health = channel_health
    app.state.runtime = runtime
    app.state.refresh_gauges = refresh_gauges
    app.include_router(router)
    return app
