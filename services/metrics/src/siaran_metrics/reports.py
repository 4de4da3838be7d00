"""Reports and coverage computed from the ledger's records (plain functions)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from siaran_shared.events import ChannelHealth
from siaran_shared.regions import NATIONAL, regions

from siaran_metrics.models import (
    ChannelRef,
    Coverage,
    DeliveryItem,
    Fallbacks,
    Latency,
    Region,
    RegionCoverage,
    Report,
    Summary,
)
from siaran_metrics.records import (
    COUNTED,
    AnnouncementRecord,
    DeliveryRecord,
    DeliveryState,
    Totals,
)
from siaran_metrics.registry import ChannelRecord


@dataclass
class Tally:
    """One pass over an announcement's delivery records: what its report and its
    completion need, without holding the records (a national announcement to a registry of
    100,000 channels is read a page at a time)."""

    by_kind: defaultdict[str, Counter[DeliveryState]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    by_province: defaultdict[str, Counter[DeliveryState]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    statuses: Counter[DeliveryState] = field(default_factory=Counter)
    first_delivered: datetime | None = None
    last_delivered: datetime | None = None
    latencies: list[float] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    revisions: set[int] = field(default_factory=set)
    fallbacks_planned: int = 0
    fallbacks_delivered: int = 0
    #: the delivery ids fallbacks replaced
    fallen_back: set[str] = field(default_factory=set)
    #: delivery id -> when it failed, of the failed deliveries that are no fallback
    failed: dict[str, datetime] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def of(cls, deliveries: Iterable[DeliveryRecord]) -> Tally:
        tally = cls()
        tally.add(deliveries)
        return tally

    def add(self, deliveries: Iterable[DeliveryRecord]) -> None:
        for d in deliveries:
            self.count += 1
            counted = d.status.counted_as
            self.by_kind[d.kind][counted] += 1
            self.by_province[d.province][counted] += 1
            self.statuses[d.status] += 1
            self.regions.add(d.region)
            self.revisions.add(d.revision)
            if d.fallback_of:
                self.fallbacks_planned += 1
                self.fallen_back.add(d.fallback_of)
            if d.status is DeliveryState.FAILED and d.fallback_of is None and d.completed_at:
                self.failed[d.delivery_id] = d.completed_at
            if d.status is not DeliveryState.DELIVERED:
                continue
            self.fallbacks_delivered += bool(d.fallback_of)
            self.reached.add(d.region)
            if d.latency_seconds is not None:
                self.latencies.append(d.latency_seconds)
            at = d.completed_at
            if at:
                first, last = self.first_delivered, self.last_delivered
                self.first_delivered = at if first is None else min(first, at)
                self.last_delivered = at if last is None else max(last, at)

    def last_failure_without_fallback(self) -> datetime | None:
        """When the latest failed delivery that no fallback replaced (yet) failed."""
        times = [t for key, t in self.failed.items() if key not in self.fallen_back]
        return max(times) if times else None


def announcement_report(
    announcement_id: str,
    announcement: AnnouncementRecord | None,
    deliveries: Iterable[DeliveryRecord] | Tally,
) -> Report:
    """The report of one announcement: its totals as the ledger keeps them (a recount only
    while a batch may have left them unsettled), the rest from its delivery records."""
    tally = deliveries if isinstance(deliveries, Tally) else Tally.of(deliveries)
    targeted = targeted_regions(announcement, tally)
    totals = _totals(announcement, tally)
    return Report(
        id=announcement_id,
        **totals.model_dump(),
        regions_targeted=len(targeted),
        regions_reached=len(tally.reached),
        regions_without_delivery=sorted(set(targeted) - tally.reached)[:1000],
        by_kind={k: _statuses(c) for k, c in sorted(tally.by_kind.items())},
        by_province={p: _statuses(c) for p, c in sorted(tally.by_province.items())},
        first_delivered_at=tally.first_delivered,
        last_delivered_at=tally.last_delivered,
        latency_seconds=_percentiles(sorted(tally.latencies)),
        accepted_at=announcement.accepted_at if announcement else None,
        title=announcement.title if announcement else None,
        announcement_cancelled=bool(announcement and announcement.cancelled),
        complete=totals.complete,
        revision=announcement.revision if announcement else max(tally.revisions or {1}),
        fallbacks=Fallbacks(planned=tally.fallbacks_planned, delivered=tally.fallbacks_delivered),
    )


def delivery_item(record: DeliveryRecord) -> DeliveryItem:
    """One line of an announcement's deliveries."""
    return DeliveryItem(
        **record.model_dump(include=_AS_RECORDED),
        status=record.status.value,
        reason=record.response,
        delivered_at=record.delivered_at,
    )


_AS_RECORDED = {"delivery_id", "channel_id", "region", "kind", "attempts", "province", "revision",
                "post_id", "fallback_of"}  # fmt: skip


def _totals(announcement: AnnouncementRecord | None, tally: Tally) -> Totals:
    if announcement is not None and announcement.totals is not None and not announcement.unsettled:
        return announcement.totals
    return Totals.of(tally.statuses)


def targeted_regions(announcement: AnnouncementRecord | None, tally: Tally) -> list[str]:
    """The regions an announcement targets; its deliveries' until the announcement arrives."""
    if announcement and announcement.regions_targeted:
        return list(announcement.regions_targeted)
    return sorted(tally.regions)


def announcement_summary(record: AnnouncementRecord) -> Summary:
    """One line of the recent-announcements list: the announcement and its totals."""
    totals = record.totals or Totals()
    return Summary(
        **totals.model_dump(),
        id=record.id,
        title=record.title,
        priority=record.priority,
        accepted_at=record.accepted_at,
        regions_targeted=len(record.regions_targeted),
        announcement_cancelled=record.cancelled,
        complete=totals.complete,
    )


def _statuses(counter: Counter[DeliveryState]) -> dict[str, int]:
    counted = {s.value: counter[s] for s in COUNTED if counter[s]}
    return counted | {"total": sum(counter.values())}


def _percentiles(values: Sequence[float]) -> Latency | None:
    if not values:
        return None

    def pick(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 4)

    return Latency(p50=pick(0.5), p90=pick(0.9), p99=pick(0.99), max=round(values[-1], 4))


def coverage(
    channels: Iterable[ChannelRecord],
    health: dict[str, ChannelHealth],
    in_scope: Callable[[str], bool] = lambda _: True,
) -> Coverage:
    """Active channels per region and kind, the regions with none, channels needing care;
    only of the regions `in_scope` (the reader's)."""
    per_region: dict[str, Counter[str]] = defaultdict(Counter)
    reconnect = []
    for c in channels:
        if not c.enabled or not in_scope(c.region):
            continue
        per_region[c.region][c.kind] += 1
        if health.get(c.id) is ChannelHealth.NEEDS_RECONNECT:
            reconnect.append(ChannelRef(id=c.id, region=c.region, kind=c.kind))
    known = regions()
    all_regions = [r for r in (NATIONAL, *known.by_code) if in_scope(r)]
    without = [r for r in all_regions if not per_region.get(r)]
    return Coverage(
        regions_total=len(all_regions),
        regions_covered=len(all_regions) - len(without),
        channels_active=sum(sum(c.values()) for c in per_region.values()),
        regions={
            r: RegionCoverage(name=known.name_of(r), kinds=dict(sorted(per_region[r].items())))
            for r in all_regions
            if per_region.get(r)
        },
        regions_without_channels=[Region(code=r, name=known.name_of(r)) for r in without],
        needs_reconnect=reconnect,
    )
