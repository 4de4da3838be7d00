"""Gauges computed from the ledger and the registry: channels per province and kind, and
deliveries still pending (plain logic; the app runs `refresh` on a timer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from siaran_shared.metric_names import NATIONAL_PROVINCE
from siaran_shared.regions import NATIONAL, regions


def channels_active(
    channels: Iterable[Mapping[str, Any]], kinds_seen: set[str]
) -> dict[tuple[str, str], int]:
    """Enabled channels per (province, kind): every province and ID for every kind, 0 included.

    `kinds_seen` accumulates every kind ever registered, so a kind whose last channel went
    away drops to 0 instead of keeping its last value.
    """
    known = regions()
    counts: Counter[tuple[str, str]] = Counter()
    for c in channels:
        kinds_seen.add(c["kind"])
        if not c.get("enabled", True):
            continue
        region = c["region"]
        if region == NATIONAL:
            province = NATIONAL_PROVINCE
        elif known.exists(region):
            province = known.province_of(region)
        else:
            continue  # the router validates regions; an unknown one is not worth a label
        counts[(province, c["kind"])] += 1
    provinces = (*known.provinces, NATIONAL_PROVINCE)
    return {(p, k): counts[(p, k)] for p in provinces for k in sorted(kinds_seen)}
