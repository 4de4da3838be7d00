"""The channel registry as it is now, followed from the compacted siaran.channels.v1 topic.

A task carries its channel as it was when the router planned it (`planned_at`); a retry may
come due hours later. Every send asks here first: a channel deleted or disabled since is not
sent to (the delivery ends `skipped`, saying why), and one re-pointed (endpoint, signing
secret, rate) is sent to where it points now. A change this instance has not read yet (saved
a moment ago, or the topic still being read at start) cannot be honoured: a task planned
after the last change read here is sent as the task says, never to an older configuration.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime

from siaran_shared.events import Channel, DeliveryPlanned, utcnow
from siaran_shared.store import Collection

from siaran_publisher.outcome import Attempt, Verdict

#: Why a delivery to a channel that no longer takes posts ends without one.
DELETED = "channel deleted after the announcement was accepted"
DISABLED = "channel disabled after the announcement was accepted"


@dataclass(frozen=True, slots=True)
class _Known:
    """What this instance read of one channel: what a send needs of its configuration (the
    registry's whole model takes about 1.3 KB: 130 MB for a registry of 100,000 channels;
    this, about 0.3 KB), whether it was deleted since, and when it was saved and changed."""

    endpoint: str
    secret: str | None
    rate_per_minute: int | None
    enabled: bool
    deleted: bool
    saved_at: datetime | None
    changed_at: datetime | None


class CurrentChannels:
    """The latest configuration of every channel seen on the registry topic."""

    def __init__(self) -> None:
        self._known: dict[str, _Known] = {}

    def apply(self, channel_id: str, channel: Channel | None, at: datetime | None = None) -> None:
        """A configuration (None: a deletion) read from the registry topic, and when it was
        saved or deleted (a save lifts a "needs reconnect": see Reconnects)."""
        before = self._known.get(channel_id)
        saved = before.saved_at if before is not None else None
        if channel is None:
            self._known[channel_id] = _Known("", None, None, False, True, saved, at)
            return
        secret = sys.intern(channel.secret) if channel.secret else None  # a few names, shared
        self._known[channel_id] = _Known(channel.endpoint, secret, channel.rate_per_minute,
                                         channel.enabled, False, at or saved, at)  # fmt: skip

    def saved_at(self, channel_id: str) -> datetime | None:
        """When the channel was last saved in the registry, as far as this instance read."""
        known = self._known.get(channel_id)
        return known.saved_at if known is not None else None

    def honour(self, task: DeliveryPlanned) -> tuple[DeliveryPlanned, str | None]:
        """The task as the channel is now, or why it may not be sent at all."""
        known = self._known.get(task.channel_id)
        if known is None:
            return task, None
        changed = known.changed_at
        if task.planned_at is not None and changed is not None and changed <= task.planned_at:
            # planned on this configuration or a later one this instance has not read yet
            return task, None
        if known.deleted:
            return task, DELETED
        if not known.enabled:
            return task, DISABLED
        now = {
            "endpoint": known.endpoint,
            "secret": known.secret,
            "rate_per_minute": known.rate_per_minute,
        }
        if all(getattr(task, name) == value for name, value in now.items()):
            return task, None
        return task.model_copy(update=now), None


#: The platforms' names as an officer knows them.
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "threads": "Threads",
                  "tiktok": "TikTok", "youtube": "YouTube"}  # fmt: skip


def reconnect_reason(platform: str) -> str:
    """What an officer reads when a platform refused a channel's token."""
    name = PLATFORM_NAMES.get(platform, platform)
    return (f"the {name} token of this channel expired or was revoked; save the channel"
            " again with a new token")  # fmt: skip


@dataclass(frozen=True)
class Mark:
    """A platform refused a channel's token: when, and which configuration was in use then."""

    platform: str
    marked_at: datetime
    #: configured_at of the channel's configuration in use (the router's clock, as the next
    #: save's will be), or the mark's own time when this instance had read none
    against: datetime


@dataclass
class Reconnects:
    """Native platform channels whose token the platform said expired or was revoked.

    Such a channel is not sent to again (every delivery fails at once, saying what to do)
    until it is saved again in the registry: a ChannelConfigured newer than the one in use
    when it was marked. The mark is kept in the store, so a restart (which reads the
    registry topic from its start, old configurations included) does not lift it."""

    docs: Collection
    channels: CurrentChannels
    #: "#" is in no announcement id, so no delivery's key (announcement:channel) can be one
    prefix: str = "#reconnect:"
    #: marks known here; a channel not here is looked up in the store (another instance may
    #: have marked it before its partition moved here)
    _marks: dict[str, Mark] = field(default_factory=dict)

    async def refusal(self, task: DeliveryPlanned) -> Attempt | None:
        """The attempt a marked channel gets instead of a send; None when it may be sent."""
        mark = await self._mark(task.channel_id)
        if mark is None:
            return None
        saved = self.channels.saved_at(task.channel_id)
        if saved is not None and saved > mark.against:  # saved again since: try the new token
            await self.docs.delete(self.prefix + task.channel_id)
            self._marks.pop(task.channel_id, None)
            return None
        since = f" (since {mark.marked_at:%Y-%m-%d %H:%M} UTC)"
        return Attempt(Verdict.PERMANENT, reconnect_reason(mark.platform) + since, 401,
                       token_dead=True)  # fmt: skip

    async def mark(self, channel_id: str, platform: str) -> None:
        """The platform refused the channel's token."""
        now = utcnow()
        mark = Mark(platform, now, self.channels.saved_at(channel_id) or now)
        doc = {"platform": platform, "marked_at": now.isoformat(),
               "against": mark.against.isoformat()}  # fmt: skip
        await self.docs.put(self.prefix + channel_id, doc)
        self._marks[channel_id] = mark

    async def _mark(self, channel_id: str) -> Mark | None:
        if channel_id not in self._marks:
            doc = await self.docs.get(self.prefix + channel_id)
            if not doc:
                return None
            at = datetime.fromisoformat
            self._marks[channel_id] = Mark(
                doc["platform"], at(doc["marked_at"]), at(doc["against"])
            )
        return self._marks[channel_id]
