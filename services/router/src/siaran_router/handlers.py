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
    DeliveryCompleted,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNEL_HEALTH, CHANNELS, RESULTS
from siaran_shared.logging import get_logger
from siaran_shared.messaging import dead_letter, decode, subscriber
from siaran_shared.service import Runtime

from siaran_router.fallbacks import Fallbacks
from siaran_router.fanout import Fanout
from siaran_router.health import HealthReports
from siaran_router.outbox import RANK
from siaran_router.registry import Registry

log = get_logger(__name__)
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


#: In the JSON of every failed outcome (`"status":"failed"`); in a few others too (a channel's
#: answer quoted in `response`), which are decoded and then not taken.
_FAILED = b'"failed"'


def subscribe(
    runtime: Runtime,
    registry: Registry,
    fanout: Fanout,
    fallbacks: Fallbacks,
    health: HealthReports,
) -> None:
    """Register the router's subscribers on the runtime's broker."""
    broker, source, settings = runtime.broker, runtime.source, runtime.settings

    @subscriber(broker, settings, CHANNELS, grouped=False)
    async def on_channels(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelConfigured, ChannelRemoved)
        for record in records:
            event = record.event
            if isinstance(event, ChannelConfigured):
                registry.apply(event.channel, event.channel.id, event.configured_at)
            else:
                registry.apply(None, event.channel_id, event.removed_at)
        if poison:
            await dead_letter(broker, source, poison)

    # Outcomes share the announcements' consumer: a failure and a cancellation of the same
    # announcement are never handled at once, and no second group member joins.
    @subscriber(broker, settings, ANNOUNCEMENTS, RESULTS, max_records=50)
    async def on_announcements(_: Any, msg: KafkaMessage) -> None:
        raws = msg.raw_message
        records, poison = decode([r for r in raws if r.topic != RESULTS], *_ANNOUNCEMENT_EVENTS)
        # Only a failure can bring a fallback: the other outcomes (nearly all) are not decoded.
        failed = [r for r in raws if r.topic == RESULTS and _FAILED in (r.value or b"")]
        outcomes, unread = decode(failed, DeliveryCompleted)
        for record in sorted(records, key=lambda r: _rank(r.event)):
            event = record.event
            if isinstance(event, AnnouncementAccepted):
                await fanout.on_accepted(event)
            elif isinstance(event, AnnouncementCancelled):
                await fanout.on_cancelled(event)
            elif isinstance(event, AnnouncementUpdated):
                await fanout.on_updated(event)
        await fallbacks.on_results([r.event for r in outcomes])
        if poison:
            await dead_letter(broker, source, poison)
        if unread:  # metrics, the outcomes' reader of record, dead-letters them
            log.warning("results_unreadable", records=len(unread), reason=unread[0].reason)

    # ungrouped like the registry: writes are idempotent (latest state wins) and no group
    # join delays the start
    @subscriber(broker, settings, CHANNEL_HEALTH, grouped=False)
    async def on_channel_health(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, ChannelHealthChanged)
        await health.record([r.event for r in records])
        if poison:
            await dead_letter(broker, source, poison)
