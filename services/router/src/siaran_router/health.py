"""Channel health as the publisher reports it, kept for GET /v1/channels/{id}."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from siaran_shared.events import ChannelHealthChanged
from siaran_shared.store import Collection


async def record_health(health: Collection, events: Sequence[ChannelHealthChanged]) -> int:
    """Keep the latest state per channel (older reports never overwrite newer ones)."""
    latest: dict[str, ChannelHealthChanged] = {}
    for event in events:
        seen = latest.get(event.channel_id)
        if seen is None or event.changed_at >= seen.changed_at:
            latest[event.channel_id] = event
    if not latest:
        return 0
    stored = await health.get_many(list(latest))
    docs: dict[str, dict[str, Any]] = {}
    for channel_id, event in latest.items():
        old = stored.get(channel_id)
        if old is not None and _when(old) > event.changed_at:
            continue
        docs[channel_id] = {
            "state": event.state.value,
            "reason": event.reason,
            "consecutive_failures": event.consecutive_failures,
            "changed_at": event.changed_at.isoformat(),
        }
    await health.put_many(docs)
    return len(docs)


def _when(doc: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(doc["changed_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
