"""The router's consumers: thin, each a decode, a call into the logic, a dead letter for
what cannot be read."""

from __future__ import annotations

from typing import Any

from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementCompleted,
    AnnouncementUpdated,
    ChannelConfigured,
    ChannelHealthChanged,
    ChannelRemoved,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNEL_HEALTH, CHANNELS
from siaran_shared.messaging import dead_letter, decode, subscriber
from siaran_shared.service import Runtime

from siaran_router.fanout import Fanout
from siaran_router.health import HealthReports
from siaran_router.outbox import RANK
from siaran_router.registry import Registry

#: What travels on the announcements topic; completions are metrics' news for ingest and
#: callbacks, read here only so they are not dead-lettered.
_ANNOUNCEMENT_EVENTS = (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    AnnouncementCompleted,
)


def _rank(event: object) -> int:
    """Cancellations first, then announcements by priority (urgent first), then corrections
    (after every first revision of the batch, so an announcement's correction never comes
    before it)."""
    if isinstance(event, AnnouncementCancelled):
        return -1
    if isinstance(event, AnnouncementAccepted):
        return RANK[event.announcement.priority]
    return len(RANK)


def subscribe(runtime: Runtime, registry: Registry, fanout: Fanout, health: HealthReports) -> None:
    """Register the router's subscribers on the runtime's broker."""
    broker, source, settings = runtime.broker, runtime.source, runtime.settings

    @subscriber(broker, settings, CHANNELS, grouped=False)
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

    @subscriber(broker, settings, ANNOUNCEMENTS, max_records=50)
    async def on_announcements(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, *_ANNOUNCEMENT_EVENTS)
        for record in sorted(records, key=lambda r: _rank(r.event)):
            event = record.event
            if isinstance(event, AnnouncementAccepted):
                await fanout.on_accepted(event)
            elif isinstance(event, AnnouncementCancelled):
                await fanout.on_cancelled(event)
            elif isinstance(event, AnnouncementUpdated):
                await fanout.on_updated(event)
        if poison:
            await dead_letter(broker, source, poison)

    # ungrouped like the registry: writes are idempotent (latest state wins) and no group
    # join delays the start
    @subscriber(broker, settings, CHANNEL_HEALTH, grouped=False)
    async def on_channel_health(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelHealthChanged)
        await health.record([r.event for r in records])
        if poison:
            await dead_letter(broker, source, poison)
