"""Reports and coverage computed from the ledger's records (plain functions)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

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


def announcement_report(
    announcement_id: str,
    announcement: AnnouncementRecord | None,
    deliveries: Sequence[DeliveryRecord],
) -> Report:
    """The report of one announcement: its totals as the ledger keeps them (a recount only
    while a batch may have left them unsettled), the rest from its delivery records."""
    by_kind: dict[str, Counter[DeliveryState]] = defaultdict(Counter)
    by_province: dict[str, Counter[DeliveryState]] = defaultdict(Counter)
    for d in deliveries:
        by_kind[d.kind][d.status.counted_as] += 1
        by_province[d.province][d.status.counted_as] += 1
    delivered = [d for d in deliveries if d.status is DeliveryState.DELIVERED]
    times = sorted(d.completed_at for d in delivered if d.completed_at)
    latencies = sorted(d.latency_seconds for d in delivered if d.latency_seconds is not None)
    reached = {d.region for d in delivered}
    targeted = targeted_regions(announcement, deliveries)
    totals = _totals(announcement, deliveries)
    return Report(
        id=announcement_id,
        **totals.model_dump(),
        regions_targeted=len(targeted),
        regions_reached=len(reached),
        regions_without_delivery=sorted(set(targeted) - reached)[:1000],
        by_kind={k: _statuses(c) for k, c in sorted(by_kind.items())},
        by_province={p: _statuses(c) for p, c in sorted(by_province.items())},
        first_delivered_at=times[0] if times else None,
        last_delivered_at=times[-1] if times else None,
        latency_seconds=_percentiles(latencies),
        accepted_at=announcement.accepted_at if announcement else None,
        title=announcement.title if announcement else None,
        announcement_cancelled=bool(announcement and announcement.cancelled),
        complete=totals.complete,
        revision=announcement.revision if announcement else max(_revisions(deliveries)),
        fallbacks=_fallbacks(deliveries),
    )


def _revisions(deliveries: Sequence[DeliveryRecord]) -> list[int]:
    return [d.revision for d in deliveries] or [1]


def _fallbacks(deliveries: Sequence[DeliveryRecord]) -> Fallbacks:
    fallbacks = [d for d in deliveries if d.fallback_of]
    delivered = sum(d.status is DeliveryState.DELIVERED for d in fallbacks)
    return Fallbacks(planned=len(fallbacks), delivered=delivered)


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


def _totals(
    announcement: AnnouncementRecord | None, deliveries: Sequence[DeliveryRecord]
) -> Totals:
    if announcement is not None and announcement.totals is not None and not announcement.unsettled:
        return announcement.totals
    return Totals.of(Counter(d.status for d in deliveries))


def targeted_regions(
    announcement: AnnouncementRecord | None, deliveries: Sequence[DeliveryRecord]
) -> list[str]:
    """The regions an announcement targets; its deliveries' until the announcement arrives."""
    if announcement and announcement.regions_targeted:
        return list(announcement.regions_targeted)
    return sorted({d.region for d in deliveries})


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
