"""metrics: the delivery ledger, reports and coverage, and delivery metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared import metric_names as m
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    ChannelConfigured,
    ChannelRemoved,
    DeliveryCompleted,
    DeliveryPlanned,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNELS, DELIVERIES, RESULTS
from siaran_shared.kafka import decode, subscriber
from siaran_shared.logging import get_logger
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings
from siaran_shared.telemetry import counter, histogram

from siaran_metrics.api import router
from siaran_metrics.ledger import Ledger

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("metrics", settings)
    store, broker = runtime.store, runtime.broker
    ledger = Ledger(
        store.collection("deliveries", indexes=("announcement_id", "status")),
        store.collection("announcements", indexes=("accepted_at",)),
    )
    channels = store.collection("channels", indexes=("region",))
    channel_health = store.collection("channel_health")
    deliveries_total = counter(m.DELIVERIES)
    delivery_seconds = histogram(m.DELIVERY_SECONDS)

    # The metrics service only reads; poison on its topics is dead-lettered by their producers'
    # consumers (router, publisher), so here it is logged and skipped.
    def _skip(poison: list[Any], topic: str) -> None:
        for p in poison:
            log.warning("skipped_invalid_record", topic=topic, offset=p.raw.offset, reason=p.reason)

    async def on_results(raws: list[Any]) -> None:
        records, poison = decode(raws, DeliveryCompleted)
        changed = await ledger.record_outcomes([r.event for r in records])
        for outcome in changed:
            labels = {"status": outcome.status.value, "kind": outcome.kind}
            deliveries_total.add(1, {**labels, "province": outcome.province})
            if outcome.latency_seconds is not None:
                delivery_seconds.record(outcome.latency_seconds, {"kind": outcome.kind})
        _skip(poison, RESULTS)

    async def on_deliveries(raws: list[Any]) -> None:
        records, poison = decode(raws, DeliveryPlanned)
        await ledger.record_planned([r.event for r in records])
        _skip(poison, DELIVERIES)

    async def on_announcements(raws: list[Any]) -> None:
        records, poison = decode(raws, AnnouncementAccepted, AnnouncementCancelled)
        await ledger.record_announcements(
            [r.event for r in records if isinstance(r.event, AnnouncementAccepted)]
        )
        await ledger.record_cancellations(
            [r.event.announcement_id for r in records if isinstance(r.event, AnnouncementCancelled)]
        )
        _skip(poison, ANNOUNCEMENTS)

    async def on_channels(raws: list[Any]) -> None:
        records, poison = decode(raws, ChannelConfigured, ChannelRemoved)
        for record in records:
            if isinstance(record.event, ChannelConfigured):
                channel = record.event.channel
                await channels.put(channel.id, channel.model_dump(mode="json"))
            else:
                await channels.delete(record.event.channel_id)
        _skip(poison, CHANNELS)

    # Plans before outcomes within a batch; the ledger accepts either order anyway.
    handlers = {
        CHANNELS: on_channels,
        ANNOUNCEMENTS: on_announcements,
        DELIVERIES: on_deliveries,
        RESULTS: on_results,
    }

    # One consumer for the four topics: one group member joins once, not four rebalances.
    @subscriber(broker, runtime.settings, *handlers)
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
    app.include_router(router)
    return app
