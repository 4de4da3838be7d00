"""The 38 provinces as a tile grid (roughly where they lie, west to east) and what a delivery
report looks like on it: each tile's share delivered, in steps a colour can show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from siaran_shared.regions import NATIONAL, regions

#: Rows of the grid, west to east; None is sea. Every province code appears exactly once.
GRID: tuple[tuple[str | None, ...], ...] = (
    ("11", None, None, None, None, None, "65", None, "75", "71", "82", None),
    ("12", "14", "21", None, "61", "62", "64", "76", "72", None, "96", "92"),
    ("13", "15", "19", None, None, "63", None, "73", "74", "81", "94", "91"),
    ("17", "16", "18", "36", "31", "32", "33", "34", "35", None, "95", "93"),
    (None, None, None, None, None, None, "51", "52", "53", None, None, None),
)
#: Short names people use for the provinces (the full official name is on each tile too).
SHORT = {
    "11": "Aceh", "12": "Sumut", "13": "Sumbar", "14": "Riau", "15": "Jambi", "16": "Sumsel",
    "17": "Bengkulu", "18": "Lampung", "19": "Babel", "21": "Kepri", "31": "Jakarta",
    "32": "Jabar", "33": "Jateng", "34": "DIY", "35": "Jatim", "36": "Banten", "51": "Bali",
    "52": "NTB", "53": "NTT", "61": "Kalbar", "62": "Kalteng", "63": "Kalsel", "64": "Kaltim",
    "65": "Kaltara", "71": "Sulut", "72": "Sulteng", "73": "Sulsel", "74": "Sultra",
    "75": "Gorontalo", "76": "Sulbar", "81": "Maluku", "82": "Malut", "91": "Papua",
    "92": "Pabar", "93": "Papsel", "94": "Papteng", "95": "Papeg", "96": "PBD",
}  # fmt: skip
FINAL = ("delivered", "failed", "skipped", "cancelled", "expired")


@dataclass(frozen=True)
class Tile:
    code: str
    short: str
    name: str
    zone: str


def tile_rows() -> list[list[Tile | None]]:
    """The grid's rows of tiles (None for sea)."""
    known = regions()
    return [
        [
            None
            if code is None
            else Tile(code, SHORT[code], known.name_of(code), known.zone_of(code))
            for code in row
        ]
        for row in GRID
    ]


def step(delivered: int, planned: int) -> str:
    """A colour class: "none" (nothing planned there), else s0 … s5 (100 %)."""
    if planned <= 0:
        return "none"
    if delivered >= planned:
        return "s5"
    return f"s{min(4, delivered * 5 // planned)}"


def percent(part: int, whole: int) -> int:
    """Whole percent, 100 only when complete (99.6 % shows 99, not 100)."""
    if whole <= 0:
        return 0
    return 100 if part >= whole else min(99, part * 100 // whole)


def _area(counts: dict[str, int]) -> dict[str, Any]:
    planned = int(counts.get("total", 0))
    delivered = int(counts.get("delivered", 0))
    done = sum(int(counts.get(s, 0)) for s in FINAL)
    return {
        "planned": planned,
        "delivered": delivered,
        "failed": int(counts.get("failed", 0)),
        "pending": max(0, planned - done),
        "percent": percent(delivered, planned),
        "step": step(delivered, planned),
    }


def live_view(report: dict[str, Any]) -> dict[str, Any]:
    """What the delivery page shows, and what its live stream sends when it changes."""
    planned = int(report.get("planned", 0))
    delivered = int(report.get("delivered", 0))
    by_province = report.get("by_province") or {}
    return {
        "planned": planned,
        "delivered": delivered,
        "failed": int(report.get("failed", 0)),
        "pending": int(report.get("pending", 0)),
        "cancelled": int(report.get("cancelled", 0)),
        "skipped": int(report.get("skipped", 0)),
        "percent": percent(delivered, planned),
        "complete": bool(report.get("complete")),
        "announcement_cancelled": bool(report.get("announcement_cancelled")),
        "regions_targeted": int(report.get("regions_targeted", 0)),
        "regions_reached": int(report.get("regions_reached", 0)),
        "provinces": {code: _area(counts) for code, counts in by_province.items()},
        "national": _area(by_province.get(NATIONAL) or {}),
        "kinds": {kind: _area(counts) for kind, counts in (report.get("by_kind") or {}).items()},
        "last_delivered_at": report.get("last_delivered_at"),
        "not_reached": len(report.get("regions_without_delivery") or ()),
    }


def not_reached(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, name) of the targeted regions nothing was delivered to yet: national, then
    provinces, then regencies and cities."""
    known = regions()
    codes = report.get("regions_without_delivery") or []
    return sorted(
        ((c, known.name_of(c)) for c in codes if c == NATIONAL or known.exists(c)),
        key=lambda pair: (pair[0] != NATIONAL, len(pair[0]), pair[0]),
    )


def list_row(item: dict[str, Any]) -> dict[str, Any]:
    """One announcement of the list with its state for the live list stream."""
    planned = int(item.get("planned", 0))
    delivered = int(item.get("delivered", 0))
    if item.get("announcement_cancelled"):
        state = "cancelled"
    elif item.get("complete"):
        state = "complete"
    elif planned == 0:
        state = "waiting"
    else:
        state = "delivering"
    return {
        "id": item["id"],
        "planned": planned,
        "delivered": delivered,
        "failed": int(item.get("failed", 0)),
        "pending": int(item.get("pending", 0)),
        "percent": percent(delivered, planned),
        "state": state,
    }
