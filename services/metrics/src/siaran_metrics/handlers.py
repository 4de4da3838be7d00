"""What metrics does with each batch of records, topic by topic, and the gauges it keeps.
Thin: decode, hand the events to the ledger or the registry, count, dead-letter the rest."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import Counter as OtelCounter
from opentelemetry.metrics import Histogram, Meter
from opentelemetry.metrics import _Gauge as Gauge
from siaran_shared import metric_names as m
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementCompleted,
    AnnouncementUpdated,
    Channel,
    ChannelConfigured,
    ChannelHealthChanged,
    ChannelRemoved,
    DeliveriesPlanned,
    DeliveryCompleted,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, CHANNEL_HEALTH, CHANNELS, PLANS, RESULTS
from siaran_shared.messaging import Poison, decode
from siaran_shared.telemetry import counter, gauge, histogram

from siaran_metrics.completion import Completer
from siaran_metrics.gauges import channels_active
from siaran_metrics.ledger import Ledger
from siaran_metrics.registry import Registry

DeadLetter = Callable[[list[Poison]], Awaitable[None]]

#: Seconds after which the channel gauges are counted again though this instance saw no change.
REGISTRY_RECOUNT = 60.0

_ANNOUNCEMENT_EVENTS = (
    AnnouncementAccepted,
    AnnouncementUpdated,
    AnnouncementCancelled,
    AnnouncementCompleted,
)


@dataclass(frozen=True)
class Instruments:
    """The OpenTelemetry instruments metrics records into."""

    deliveries: OtelCounter
    delivery_seconds: Histogram
    channels_active: Gauge
    pending: Gauge

    @classmethod
    def create(cls, meter: Meter | None = None) -> Instruments:
        """From `meter` (a test's in-memory one), else the process's."""
        return cls(
            deliveries=counter(m.DELIVERIES, meter),
            delivery_seconds=histogram(m.DELIVERY_SECONDS, meter),
            channels_active=gauge(m.CHANNELS_ACTIVE, meter),
            pending=gauge(m.PENDING_DELIVERIES, meter),
        )


class Handlers:
    """One batch of the five topics metrics reads, each topic's records to its handler."""

    def __init__(
        self,
        ledger: Ledger,
        registry: Registry,
        instruments: Instruments,
        dead_letter: DeadLetter,
        completer: Completer | None = None,
    ) -> None:
        self.ledger = ledger
        self.registry = registry
        self.completer = completer
        self._instruments = instruments
        self._dead_letter = dead_letter
        self._kinds_seen: set[str] = set()
        self._touched: set[str] = set()  # announcements a batch changed: complete now?
        self._counted_changes: int | None = None  # the registry's changes when last counted
        self._counted_at = 0.0
        # Plans before outcomes within a batch; the ledger accepts either order anyway.
        self.by_topic = {
            CHANNELS: self.on_channels,
            ANNOUNCEMENTS: self.on_announcements,
            PLANS: self.on_plans,
            RESULTS: self.on_results,
            CHANNEL_HEALTH: self.on_health,
        }

    async def on_batch(self, raws: Sequence[Any]) -> None:
        """A batch of records of any of the topics."""
        grouped: dict[str, list[Any]] = {}
        for raw in raws:
            grouped.setdefault(raw.topic, []).append(raw)
        for topic, handle in self.by_topic.items():
            if topic in grouped:
                await handle(grouped[topic])
        touched, self._touched = self._touched, set()
        if self.completer is not None and touched:
            await self.completer.check(touched)

    async def on_results(self, raws: list[Any]) -> None:
        records, poison = decode(raws, DeliveryCompleted)
        changed = await self.ledger.record_outcomes([r.event for r in records])
        # all of them: a batch replayed after a failed check finds nothing changed
        self._touched.update(r.event.announcement_id for r in records)
        counts: Counter[tuple[str, str, str]] = Counter()
        for outcome in changed:
            counts[outcome.status.value, outcome.kind, outcome.province] += 1
            if outcome.latency_seconds is not None:
                self._instruments.delivery_seconds.record(
                    outcome.latency_seconds, {"kind": outcome.kind}
                )
        for (status, kind, province), n in counts.items():  # one add per series
            self._instruments.deliveries.add(
                n, {"status": status, "kind": kind, "province": province}
            )
        await self._refuse(poison)

    async def on_plans(self, raws: list[Any]) -> None:
        # One summary per released chunk of an announcement's tasks, without their text:
        # metrics never reads the tasks themselves (siaran.deliveries.v1).
        records, poison = decode(raws, DeliveriesPlanned)
        await self.ledger.record_plans([r.event for r in records])
        self._touched.update(r.event.announcement_id for r in records)
        await self._refuse(poison)

    async def on_announcements(self, raws: list[Any]) -> None:
        # AnnouncementCompleted travels here too: metrics' own, nothing to record.
        records, poison = decode(raws, *_ANNOUNCEMENT_EVENTS)
        events = [r.event for r in records]
        described = [e for e in events if isinstance(e, AnnouncementAccepted | AnnouncementUpdated)]
        cancelled = [e for e in events if isinstance(e, AnnouncementCancelled)]
        await self.ledger.record_announcements(described)
        await self.ledger.record_cancellations(cancelled)
        self._touched.update(e.announcement.id for e in described)
        self._touched.update(e.announcement_id for e in cancelled)
        await self._refuse(poison)

    async def on_channels(self, raws: list[Any]) -> None:
        records, poison = decode(raws, ChannelConfigured, ChannelRemoved)
        configured: dict[str, Channel] = {}  # in a row, up to the next removal: one write
        for record in records:
            if isinstance(record.event, ChannelConfigured):
                configured[record.event.channel.id] = record.event.channel
            else:
                await self.registry.configure(*configured.values())
                configured = {}
                await self.registry.remove(record.event.channel_id)
        await self.registry.configure(*configured.values())
        await self._refuse(poison)

    async def on_health(self, raws: list[Any]) -> None:
        # Compacted topic keyed by channel id: an empty value forgets the channel's health.
        await self.registry.forget_health(
            [raw.key.decode(errors="replace") for raw in raws if not raw.value and raw.key]
        )
        records, poison = decode([r for r in raws if r.value], ChannelHealthChanged)
        await self.registry.report_health([r.event for r in records])
        await self._refuse(poison)

    async def _refuse(self, poison: list[Poison]) -> None:
        # A record the ledger cannot read goes to the dead-letter topic with the reason, like
        # everywhere else (the header siaran-dead-lettered-by tells which consumer refused it).
        if poison:
            await self._dead_letter(poison)

    async def refresh_gauges(self, now: float | None = None) -> None:
        """Deliveries still pending; channels per province and kind when the registry
        changed since they were counted, or REGISTRY_RECOUNT seconds ago (another instance
        sharing the store may have changed it). Counting reads every channel of the registry:
        0.6 s of CPU at 100,000 channels, which every refresh spent before."""
        now = time.monotonic() if now is None else now
        changes = self.registry.changes
        if changes != self._counted_changes or now - self._counted_at >= REGISTRY_RECOUNT:
            channels = await self.registry.channels()
            for (province, kind), value in channels_active(channels, self._kinds_seen).items():
                self._instruments.channels_active.set(value, {"province": province, "kind": kind})
            self._counted_changes, self._counted_at = changes, now
        self._instruments.pending.set(await self.ledger.deliveries.pending())
