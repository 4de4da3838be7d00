"""Which regions an API key may target."""

from __future__ import annotations

from siaran_shared.auth import Scope
from siaran_shared.events import Target
from siaran_shared.regions import NATIONAL, regions

from siaran_ingest.targets import TargetIn


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
