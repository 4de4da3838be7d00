"""Channel health as the publisher reports it, kept for GET /v1/channels/{id}."""

from __future__ import annotations

from collections.abc import Sequence

from siaran_shared.channel_health import newest_health
from siaran_shared.events import ChannelHealthChanged
from siaran_shared.store import Collection


async def record_health(health: Collection, events: Sequence[ChannelHealthChanged]) -> int:
    """Keep the latest state per channel (older reports never overwrite newer ones)."""
    docs = {
        channel_id: {
            "state": event.state.value,
            "reason": event.reason,
            "consecutive_failures": event.consecutive_failures,
            "changed_at": event.changed_at.isoformat(),
        }
        for channel_id, event in (await newest_health(health, events)).items()
    }
    await health.put_many(docs)
    return len(docs)
