"""Which channels an announcement reaches: its regions, then kinds and tags."""

from __future__ import annotations

from siaran_shared.events import Target
from siaran_shared.regions import target_regions

from siaran_router.registry import Listed, Registry


def select_channels(target: Target, registry: Registry) -> list[Listed]:
    """Enabled channels in the target's regions, filtered by kinds and tags; each once."""
    kinds = set(target.kinds)
    tags = set(target.tags)
    chosen: dict[str, Listed] = {}
    for channel in registry.in_regions(target_regions(target)):
        if not channel.enabled:
            continue
        if kinds and channel.kind not in kinds:
            continue
        if tags and not tags.intersection(channel.tags):
            continue
        chosen[channel.id] = channel
    return sorted(chosen.values(), key=lambda c: c.id)
