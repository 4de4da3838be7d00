"""The channel registry as it is now, followed from the compacted siaran.channels.v1 topic.

A task carries its channel as it was when the announcement was accepted; a retry may come
due hours later. Every send asks here first: a channel deleted or disabled meanwhile is not
sent to (the delivery ends `skipped`, saying why), and one re-pointed (endpoint, signing
secret, rate) is sent to where it points now. A channel this instance has not heard of yet
(registered a moment ago, or the topic still being read at start) is sent as the task says.
"""

from __future__ import annotations

from siaran_shared.events import Channel, DeliveryPlanned

#: Why a delivery to a channel that no longer takes posts ends without one.
DELETED = "channel deleted after the announcement was accepted"
DISABLED = "channel disabled after the announcement was accepted"


class CurrentChannels:
    """The latest configuration of every channel seen on the registry topic."""

    def __init__(self) -> None:
        self._latest: dict[str, Channel | None] = {}  # None: deleted (a tombstone)

    def apply(self, channel_id: str, channel: Channel | None) -> None:
        """A configuration (None: a deletion) read from the registry topic."""
        self._latest[channel_id] = channel

    def honour(self, task: DeliveryPlanned) -> tuple[DeliveryPlanned, str | None]:
        """The task as the channel is now, or why it may not be sent at all."""
        if task.channel_id not in self._latest:
            return task, None
        channel = self._latest[task.channel_id]
        if channel is None:
            return task, DELETED
        if not channel.enabled:
            return task, DISABLED
        now = {
            "endpoint": channel.endpoint,
            "secret": channel.secret,
            "rate_per_minute": channel.rate_per_minute,
        }
        if all(getattr(task, name) == value for name, value in now.items()):
            return task, None
        return task.model_copy(update=now), None
