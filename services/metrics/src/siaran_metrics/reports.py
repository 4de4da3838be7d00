"""Reports and coverage computed from the ledger (plain functions over documents)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from siaran_shared.regions import NATIONAL, regions

from siaran_metrics.ledger import STATUSES


def announcement_report(
    announcement_id: str,
    announcement: dict[str, Any] | None,
    deliveries: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The report of one announcement (contract fields first, then extras)."""
    totals = Counter(d["status"] for d in deliveries)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_province: dict[str, Counter[str]] = defaultdict(Counter)
    for d in deliveries:
        by_kind[d["kind"]][d["status"]] += 1
        by_province[d["province"]][d["status"]] += 1
    delivered = [d for d in deliveries if d["status"] == "delivered"]
    times = sorted(d["completed_at"] for d in delivered if d.get("completed_at"))
    latencies = sorted(
        d["latency_seconds"] for d in delivered if d.get("latency_seconds") is not None
    )
    reached = sorted({d["region"] for d in delivered})
    info = announcement or {}
    targeted = targeted_regions(announcement, deliveries)
    return {
        "id": announcement_id,
        "planned": len(deliveries),
        "delivered": totals["delivered"],
        "failed": totals["failed"],
        "pending": totals["pending"],
        "cancelled": totals["cancelled"],
        "expired": totals["expired"],
        "skipped": totals["skipped"],
        "regions_targeted": len(targeted),
        "regions_reached": len(reached),
        "regions_without_delivery": sorted(set(targeted) - set(reached))[:1000],
        "by_kind": {k: _statuses(c) for k, c in sorted(by_kind.items())},
        "by_province": {p: _statuses(c) for p, c in sorted(by_province.items())},
        "first_delivered_at": times[0] if times else None,
        "last_delivered_at": times[-1] if times else None,
        "latency_seconds": _percentiles(latencies),
        "accepted_at": info.get("accepted_at"),
        "title": info.get("title"),
        "announcement_cancelled": bool(info.get("cancelled")),
        "complete": totals["pending"] == 0 and len(deliveries) > 0,
    }


def targeted_regions(
    announcement: dict[str, Any] | None, deliveries: Sequence[dict[str, Any]]
) -> list[str]:
    """The regions an announcement targets; its deliveries' until the announcement arrives."""
    if announcement and announcement.get("regions_targeted"):
        return list(announcement["regions_targeted"])
    return sorted({d["region"] for d in deliveries})


def announcement_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """One line of the recent-announcements list: the announcement and its totals."""
    totals = doc.get("totals") or {}
    counts = {"planned": totals.get("planned", 0)} | {s: totals.get(s, 0) for s in STATUSES}
    return {
        "id": doc["id"],
        "title": doc.get("title"),
        "priority": doc.get("priority"),
        "accepted_at": doc.get("accepted_at"),
        "regions_targeted": len(doc.get("regions_targeted") or ()),
        **counts,
        "announcement_cancelled": bool(doc.get("cancelled")),
        "complete": counts["pending"] == 0 and counts["planned"] > 0,
    }


def _statuses(counter: Counter[str]) -> dict[str, int]:
    return {s: counter[s] for s in STATUSES if counter[s]} | {"total": sum(counter.values())}


def _percentiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None

    def pick(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 4)

    return {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": round(values[-1], 4)}


def coverage(
    channels: Iterable[dict[str, Any]],
    health: dict[str, dict[str, Any]],
    in_scope: Callable[[str], bool] = lambda _: True,
) -> dict[str, Any]:
    """Active channels per region and kind, the regions with none, channels needing care;
    only of the regions `in_scope` (the reader's)."""
    per_region: dict[str, Counter[str]] = defaultdict(Counter)
    reconnect = []
    for c in channels:
        if not c.get("enabled", True) or not in_scope(c["region"]):
            continue
        per_region[c["region"]][c["kind"]] += 1
        state = health.get(c["id"], {}).get("state")
        if state == "needs_reconnect":
            reconnect.append({"id": c["id"], "region": c["region"], "kind": c["kind"]})
    known = regions()
    all_regions = [r for r in (NATIONAL, *known.by_code) if in_scope(r)]
    without = [r for r in all_regions if not per_region.get(r)]
    return {
        "regions_total": len(all_regions),
        "regions_covered": len(all_regions) - len(without),
        "channels_active": sum(sum(c.values()) for c in per_region.values()),
        "regions": {
            r: {"name": known.name_of(r), "kinds": dict(sorted(per_region[r].items()))}
            for r in all_regions
            if per_region.get(r)
        },
        "regions_without_channels": [{"code": r, "name": known.name_of(r)} for r in without],
        "needs_reconnect": reconnect,
    }
