"""router: the channel registry, targeting, rendering and fan-out of announcements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    ChannelConfigured,
    ChannelRemoved,
    DeliveryPlanned,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNELS, DELIVERIES
from siaran_shared.kafka import Outgoing, dead_letter, decode, publish_all, subscriber
from siaran_shared.logging import get_logger
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_router.api import router
from siaran_router.fanout import Fanout
from siaran_router.registry import Registry
from siaran_router.service import ChannelService

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("router", settings)
    broker, source = runtime.broker, runtime.source
    registry = Registry(runtime.store.collection("channels", indexes=("region",)))

    async def announce(channel_id: str, event: ChannelConfigured | None) -> None:
        await publish_all(broker, source, [Outgoing(CHANNELS, channel_id, event)])

    async def emit(tasks: Sequence[DeliveryPlanned]) -> None:
        await publish_all(broker, source, (Outgoing(DELIVERIES, t.channel_id, t) for t in tasks))

    channels = ChannelService(registry, runtime.store.collection("channel_health"), announce)
    fanout = Fanout(registry, runtime.store.collection("plans", indexes=("status",)), emit)

    async def load_registry() -> None:
        log.info("registry_loaded", channels=await registry.load())

    runtime.on_start.append(load_registry)

    @subscriber(broker, runtime.settings, CHANNELS, grouped=False)
    async def on_channels(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelConfigured, ChannelRemoved)
        for record in records:
            event = record.event
            if isinstance(event, ChannelConfigured):
                registry.apply(event.channel, event.channel.id)
            else:
                registry.apply(None, event.channel_id)
        if poison:
            await dead_letter(broker, source, poison)

    @subscriber(broker, runtime.settings, ANNOUNCEMENTS, max_records=50)
    async def on_announcements(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, AnnouncementAccepted, AnnouncementCancelled)
        for record in records:
            if isinstance(record.event, AnnouncementAccepted):
                await fanout.on_accepted(record.event)
            else:
                await fanout.on_cancelled(record.event)
        if poison:
            await dead_letter(broker, source, poison)

    app = create_service_app(
        runtime,
        title="Siaran router",
        description="The channel registry of every regional office; fan-out of announcements.",
    )
    app.state.channels = channels
    app.state.runtime = runtime
    app.include_router(router)
    return app
