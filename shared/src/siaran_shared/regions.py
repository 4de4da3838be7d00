"""Indonesia's official regions: 38 provinces, 514 regencies/cities and their time zones.

Data vendored from idn-area-data 4.0.1 (ODbL 1.0); see data/regions/SOURCE.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from siaran_shared.events import Target

NATIONAL = "ID"
Zone = Literal["WIB", "WITA", "WIT"]
ZONE_OFFSETS: dict[str, timezone] = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}


@dataclass(frozen=True, slots=True)
class Region:
    """A province (code like "73") or a regency/city (code like "73.03")."""

    code: str
    name: str
    province: str
    zone: str

    @property
    def is_province(self) -> bool:
        return self.code == self.province


@dataclass(frozen=True, slots=True)
class Regions:
    """Lookups over the official region list."""

    by_code: dict[str, Region]
    regencies_by_province: dict[str, tuple[str, ...]]

    @property
    def provinces(self) -> tuple[str, ...]:
        return tuple(self.regencies_by_province)

    @property
    def regencies(self) -> tuple[str, ...]:
        return tuple(r for codes in self.regencies_by_province.values() for r in codes)

    def exists(self, code: str) -> bool:
        """Whether `code` is a province or regency code (not the national ID)."""
        return code in self.by_code

    def province_of(self, code: str) -> str:
        """The province code of a region; ID for the national code."""
        if code == NATIONAL:
            return NATIONAL
        return self.by_code[code].province

    def regencies_of(self, province: str) -> tuple[str, ...]:
        """The regency/city codes of a province."""
        return self.regencies_by_province[province]

    def zone_of(self, code: str) -> str:
        """WIB, WITA or WIT for a region (the province's legal zone)."""
        return self.by_code[code].zone

    def in_zone(self, zone: str) -> tuple[str, ...]:
        """Every province and regency code in a time zone."""
        return tuple(c for c, r in self.by_code.items() if r.zone == zone)

    def name_of(self, code: str) -> str:
        """The official name of a region (Indonesia for ID)."""
        return "Indonesia" if code == NATIONAL else self.by_code[code].name


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("siaran_shared").joinpath("data", "regions", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def regions() -> Regions:
    """The official regions, loaded once from the vendored CSV files."""
    zones = {row["province_code"]: row["zone"] for row in _rows("province-zones.csv")}
    by_code: dict[str, Region] = {}
    regencies: dict[str, list[str]] = {}
    for row in _rows("provinces.csv"):
        code = row["code"]
        by_code[code] = Region(code, row["name"], code, zones[code])
        regencies[code] = []
    for row in _rows("regencies.csv"):
        province = row["province_code"]
        by_code[row["code"]] = Region(row["code"], row["name"], province, zones[province])
        regencies[province].append(row["code"])
    return Regions(by_code, {p: tuple(c) for p, c in regencies.items()})


def select_regions(
    *,
    national: bool = False,
    provinces: Iterable[str] = (),
    regencies: Iterable[str] = (),
    zones: Iterable[str] = (),
) -> frozenset[str]:
    """The region codes a target selects: the union of national (every region plus ID),
    provinces with their regencies, regencies, and every region in the zones."""
    known = regions()
    if national:
        return frozenset((*known.by_code, NATIONAL))
    selected: set[str] = set()
    for province in provinces:
        if province in known.regencies_by_province:
            selected.add(province)
            selected.update(known.regencies_of(province))
    selected.update(r for r in regencies if r in known.by_code)
    for zone in zones:
        selected.update(known.in_zone(zone))
    return frozenset(selected)


def target_regions(target: Target) -> frozenset[str]:
    """The region codes an announcement's target selects (see select_regions)."""
    return select_regions(
        national=target.national,
        provinces=target.provinces,
        regencies=target.regencies,
        zones=target.zones,
    )
