"""Gauges computed from the ledger and the registry: channels per province and kind, and
deliveries still pending (plain logic; the handlers refresh them on a timer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from siaran_shared.metric_names import NATIONAL_PROVINCE
from siaran_shared.regions import NATIONAL, regions

from siaran_metrics.registry import ChannelRecord


def channels_active(
    channels: Iterable[ChannelRecord], kinds_seen: set[str]
) -> dict[tuple[str, str], int]:
    """Enabled channels per (province, kind): every province and ID for every kind, 0 included.

    `kinds_seen` accumulates every kind ever registered, so a kind whose last channel went
    away drops to 0 instead of keeping its last value.
    """
    known = regions()
    counts: Counter[tuple[str, str]] = Counter()
    for c in channels:
        kinds_seen.add(c.kind)
        if not c.enabled:
            continue
        if c.region == NATIONAL:
            province = NATIONAL_PROVINCE
        elif known.exists(c.region):
            province = known.province_of(c.region)
        else:
            continue  # the router validates regions; an unknown one is not worth a label
        counts[(province, c.kind)] += 1
    provinces = (*known.provinces, NATIONAL_PROVINCE)
    return {(p, k): counts[(p, k)] for p in provinces for k in sorted(kinds_seen)}
