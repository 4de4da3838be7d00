"""The channel registry: durable in the store, cached in memory, kept in step across
router instances through the compacted channels topic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from siaran_shared.events import Channel
from siaran_shared.store import Collection


class Registry:
    """Every known channel, indexed by region for fan-out."""

    def __init__(self, collection: Collection) -> None:
        self._docs = collection
        self._by_id: dict[str, Channel] = {}
        self._by_region: dict[str, dict[str, Channel]] = defaultdict(dict)

    async def load(self) -> int:
        """Fill the cache from the store; returns the number of channels."""
        for doc in await self._docs.find():
            self._cache(Channel.model_validate(doc))
        return len(self._by_id)

    async def save(self, channel: Channel) -> bool:
        """Store and cache a channel; returns True when it is new."""
        created = channel.id not in self._by_id and await self._docs.get(channel.id) is None
        await self._docs.put(channel.id, channel.model_dump(mode="json"))
        self._cache(channel)
        return created

    async def save_many(self, channels: Sequence[Channel]) -> None:
        """Store and cache many channels in one round trip."""
        await self._docs.put_many({c.id: c.model_dump(mode="json") for c in channels})
        for channel in channels:
            self._cache(channel)

    async def remove(self, channel_id: str) -> bool:
        """Delete a channel; returns whether it existed."""
        self._uncache(channel_id)
        return await self._docs.delete(channel_id)

    def apply(self, channel: Channel | None, channel_id: str) -> None:
        """Apply a change seen on the channels topic (None removes) to the cache."""
        if channel is None:
            self._uncache(channel_id)
        else:
            self._cache(channel)

    def get(self, channel_id: str) -> Channel | None:
        return self._by_id.get(channel_id)

    def all(self) -> list[Channel]:
        return sorted(self._by_id.values(), key=lambda c: c.id)

    def in_regions(self, regions: Iterable[str]) -> list[Channel]:
        """Channels (enabled or not) whose region is one of `regions`."""
        return [c for r in regions for c in self._by_region.get(r, {}).values()]

    def __len__(self) -> int:
        return len(self._by_id)

    def _cache(self, channel: Channel) -> None:
        self._uncache(channel.id)
        self._by_id[channel.id] = channel
        self._by_region[channel.region][channel.id] = channel

    def _uncache(self, channel_id: str) -> None:
        old = self._by_id.pop(channel_id, None)
        if old is not None:
            self._by_region[old.region].pop(channel_id, None)
