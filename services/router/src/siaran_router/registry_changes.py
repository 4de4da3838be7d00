"""Registry changes: stored, cached and announced on the compacted channels topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from siaran_shared.events import Channel, ChannelConfigured

from siaran_router.health import HealthReport, HealthReports
from siaran_router.registry import Registry

#: Publishes (channel id, event or None for a tombstone) pairs, all awaited at once.
Announce = Callable[[Sequence[tuple[str, ChannelConfigured | None]]], Awaitable[None]]


class RegistryChanges:
    """What the API does to the registry; every change reaches other instances by topic."""

    def __init__(self, registry: Registry, health: HealthReports, announce: Announce) -> None:
        self.registry = registry
        self._health = health
        self._announce = announce

    async def save(self, channel: Channel) -> bool:
        created = await self.registry.save(channel)
        await self._announce([(channel.id, ChannelConfigured(channel=channel))])
        return created

    async def save_many(self, channels: Sequence[Channel], removed: Sequence[str] = ()) -> None:
        """Apply a bulk import: store and cache all, then announce all at once."""
        await self.registry.save_many(channels)
        for channel_id in removed:
            await self.registry.remove(channel_id)
        await self._announce(
            [
                *((c.id, ChannelConfigured(channel=c)) for c in channels),
                *((channel_id, None) for channel_id in removed),
            ]
        )

    async def remove(self, channel_id: str) -> bool:
        existed = self.registry.get(channel_id) is not None
        existed = await self.registry.remove(channel_id) or existed
        if existed:
            await self._announce([(channel_id, None)])
        return existed

    async def health(self, channel_id: str) -> HealthReport | None:
        """The channel's delivery health as last reported by the publisher."""
        return await self._health.get(channel_id)
