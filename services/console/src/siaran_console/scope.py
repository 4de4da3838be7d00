"""What a key reaches, read from its own coverage answer (metrics cuts it to the key's scope),
so pages offer only the regions the key may target; the APIs still decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from siaran_shared.regions import NATIONAL, regions


@dataclass(frozen=True)
class ProvinceChoice:
    code: str
    name: str
    zone: str
    selectable: bool  # the province itself is in scope, not only some of its regencies
    regencies: tuple[tuple[str, str], ...]  # (code, name) in scope


def regions_in(coverage: dict[str, Any]) -> frozenset[str]:
    """Every region code of a coverage answer: with a channel or without one."""
    without = {r["code"] for r in coverage.get("regions_without_channels", [])}
    return frozenset(coverage.get("regions", {})) | without


def kinds_in(coverage: dict[str, Any]) -> list[str]:
    """The channel kinds a coverage answer has: the kinds worth filtering by."""
    return sorted({k for r in coverage.get("regions", {}).values() for k in r.get("kinds", {})})


def province_choices(within: frozenset[str] | None = None) -> list[ProvinceChoice]:
    """The provinces with their regencies and cities for a picker; with `within`, only the
    regions in it (a province appears when it or one of its regencies is)."""
    known = regions()
    choices = []
    for code in known.provinces:
        regencies = tuple(
            (r, known.name_of(r)) for r in known.regencies_of(code) if within is None or r in within
        )
        selectable = within is None or code in within
        if selectable or regencies:
            name, zone = known.name_of(code), known.zone_of(code)
            choices.append(ProvinceChoice(code, name, zone, selectable, regencies))
    return choices


def national(within: frozenset[str] | None) -> bool:
    """Whether the whole country (and the national channels) is in reach."""
    return within is None or NATIONAL in within


def zone_of(within: frozenset[str]) -> str | None:
    """The one time zone all regions in reach share (a regional officer's), else None."""
    known = regions()
    zones = {known.zone_of(r) for r in within if r != NATIONAL and known.exists(r)}
    return zones.pop() if len(zones) == 1 else None
