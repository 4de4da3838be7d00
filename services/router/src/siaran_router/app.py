"""router: the channel registry, targeting, rendering, scheduling and fan-out."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    ChannelConfigured,
    ChannelHealthChanged,
    ChannelRemoved,
    DeliveryCompleted,
    DeliveryPlanned,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNEL_HEALTH, CHANNELS, DELIVERIES, RESULTS
from siaran_shared.kafka import Outgoing, dead_letter, decode, publish_all, subscriber
from siaran_shared.logging import get_logger
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_router.api import router
from siaran_router.channels import ENDPOINT_ALLOWLIST
from siaran_router.fanout import Fanout
from siaran_router.health import record_health
from siaran_router.outbox import RANK, Batches
from siaran_router.plans import Plans
from siaran_router.registry import Registry
from siaran_router.release import Releaser
from siaran_router.service import ChannelService

log = get_logger(__name__)
#: Bulk imports of the whole national registry (tens of thousands of rows) fit.
MAX_BODY_BYTES = 32 << 20


def _rank(event: AnnouncementAccepted | AnnouncementCancelled) -> int:
    """Cancellations first, then announcements by priority (urgent first)."""
    if isinstance(event, AnnouncementCancelled):
        return -1
    return RANK[event.announcement.priority]


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("router", settings)
    ENDPOINT_ALLOWLIST.clear()
    ENDPOINT_ALLOWLIST.update(runtime.settings.endpoint_allowlist)
    broker, source, store = runtime.broker, runtime.source, runtime.store
    registry = Registry(store.collection("channels", indexes=("region",)))

    async def announce(changes: Sequence[tuple[str, ChannelConfigured | None]]) -> None:
        await publish_all(broker, source, (Outgoing(CHANNELS, k, e) for k, e in changes))

    async def emit(tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]) -> None:
        await publish_all(
            broker,
            source,
            [
                *(Outgoing(DELIVERIES, t.channel_id, t) for t in tasks),
                *(Outgoing(RESULTS, o.announcement_id, o) for o in outcomes),
            ],
        )

    health = store.collection("channel_health")
    channels = ChannelService(registry, health, announce)
    batches = Batches(
        store.collection("release_batches", indexes=("status", "due", "announcement_id")),
        store.collection("release_tasks"),
    )
    owner = f"{socket.gethostname()}:{os.getpid()}"
    releaser = Releaser(batches, emit, registry.get, owner=owner)
    plans = Plans(store.collection("plans", indexes=("status",)))
    fanout = Fanout(registry, plans, releaser, emit)

    async def load_registry() -> None:
        log.info("registry_loaded", channels=await registry.load())

    runtime.on_start.append(load_registry)
    runtime.run_in_background("releaser", releaser.run)

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
        for record in sorted(records, key=lambda r: _rank(r.event)):
            if isinstance(record.event, AnnouncementAccepted):
                await fanout.on_accepted(record.event)
            else:
                await fanout.on_cancelled(record.event)
        if poison:
            await dead_letter(broker, source, poison)

    # ungrouped like the registry: writes are idempotent (latest state wins) and no group
    # join delays the start
    @subscriber(broker, runtime.settings, CHANNEL_HEALTH, grouped=False)
    async def on_channel_health(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelHealthChanged)
        await record_health(health, [r.event for r in records])
        if poison:
            await dead_letter(broker, source, poison)

    app = create_service_app(
        runtime,
        title="Siaran router",
        description="The channel registry of every regional office; fan-out of announcements.",
        max_body_bytes=MAX_BODY_BYTES,
    )
    app.state.channels = channels
    app.state.releaser = releaser
    app.state.runtime = runtime
    app.include_router(router)
    return app
