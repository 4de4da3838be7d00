"""The channel registry as metrics keeps it (for coverage and the channel gauges): each
channel's region, kind and whether it is enabled, and its latest reported health. The only
place in metrics, besides the ledger's repositories, that speaks the store's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from siaran_shared.channel_health import newest_health
from siaran_shared.events import Channel, ChannelHealth, ChannelHealthChanged
from siaran_shared.store import Collection


class ChannelRecord(BaseModel):
    """What coverage needs of a channel (never its endpoint or secret)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    region: str
    kind: str
    enabled: bool = True

    @classmethod
    def of(cls, channel: Channel) -> ChannelRecord:
        return cls(id=channel.id, region=channel.region, kind=channel.kind, enabled=channel.enabled)


class HealthRecord(BaseModel):
    """A channel's latest delivery health as the publisher reported it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    kind: str
    province: str
    state: ChannelHealth
    reason: str | None = None
    consecutive_failures: int = 0
    changed_at: datetime

    @classmethod
    def of(cls, event: ChannelHealthChanged) -> HealthRecord:
        return cls(id=event.channel_id, **event.model_dump(include=_REPORTED))


_REPORTED = {"kind", "province", "state", "reason", "consecutive_failures", "changed_at"}


class Registry:
    """Channels and their health, as the registry and health topics tell them."""

    def __init__(self, channels: Collection, health: Collection) -> None:
        self._channels = channels
        self._health = health
        #: channels configured or removed through this instance so far (what tells the
        #: gauges that a count of the whole registry is due)
        self.changes = 0

    async def configure(self, *channels: Channel) -> None:
        """Channels were created or changed: stored in one write (an import's batch of
        thousands was one write per channel)."""
        await self._channels.put_many({c.id: ChannelRecord.of(c).model_dump() for c in channels})
        self.changes += len(channels)

    async def remove(self, channel_id: str) -> None:
        await self._channels.delete(channel_id)
        self.changes += 1

    async def channels(self) -> list[ChannelRecord]:
        return [ChannelRecord.model_validate(doc) for doc in await self._channels.find()]

    async def report_health(self, events: Sequence[ChannelHealthChanged]) -> int:
        """Keep the newest reported state per channel; how many changed."""
        newest = await newest_health(self._health, events)
        await self._health.put_many(
            {cid: HealthRecord.of(e).model_dump(mode="json") for cid, e in newest.items()}
        )
        return len(newest)

    async def forget_health(self, channel_ids: Sequence[str]) -> None:
        """The health of these channels was withdrawn (a tombstone on the health topic)."""
        for channel_id in channel_ids:
            await self._health.delete(channel_id)

    async def health(self) -> dict[str, ChannelHealth]:
        """Every channel's latest reported state."""
        return {doc["id"]: ChannelHealth(doc["state"]) for doc in await self._health.find()}
