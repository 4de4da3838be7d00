"""Which regions an API key may target, and the narrowest scope that reaches a whole target."""

from __future__ import annotations

from siaran_shared.announcement_in.targets import TargetIn
from siaran_shared.auth import Scope
from siaran_shared.events import Target
from siaran_shared.regions import NATIONAL, regions


def out_of_scope(scope: Scope, target: TargetIn | Target) -> list[str]:
    """The selectors of `target` outside `scope` (empty when the key may send it)."""
    if scope.is_national:
        return []
    outside: list[str] = []
    if target.national:
        outside.append(NATIONAL)
    for zone in target.zones:
        if any(not scope.covers(code) for code in regions().in_zone(zone)):
            outside.append(f"zone {zone}")
    outside.extend(
        code for code in (*target.provinces, *target.regencies) if not scope.covers(code)
    )
    return outside


#: The reach of a target that lies in no single province (or regency).
WIDE = "*"


def reach(target: Target) -> tuple[str, str]:
    """The one province and the one regency a target lies entirely inside (`WIDE` when it
    lies in several): a province key sees announcements of its province, a regency key those
    of its regency, which lets the archive list them by a plain field."""
    if target.national:
        return WIDE, WIDE
    known = regions()
    codes = {*target.provinces, *target.regencies}
    for zone in target.zones:
        codes.update(known.in_zone(zone))
    provinces = {known.province_of(c) if known.exists(c) else WIDE for c in codes}
    province = provinces.pop() if len(provinces) == 1 else WIDE
    regency = next(iter(codes)) if len(codes) == 1 and "." in next(iter(codes)) else WIDE
    return province, regency
