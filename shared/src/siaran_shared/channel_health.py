"""Channel health as the publisher reports it, kept by the services that show it (router,
metrics): the newest report per channel wins, whatever order the reports arrive in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from siaran_shared.events import ChannelHealthChanged
from siaran_shared.store import Collection


async def newest_health(
    health: Collection, events: Sequence[ChannelHealthChanged]
) -> dict[str, ChannelHealthChanged]:
    """The newest report per channel in `events` that is not older than the one `health`
    holds (documents with a `changed_at`): what to store; a replayed older one never is."""
    latest: dict[str, ChannelHealthChanged] = {}
    for event in events:
        seen = latest.get(event.channel_id)
        if seen is None or event.changed_at >= seen.changed_at:
            latest[event.channel_id] = event
    if not latest:
        return {}
    stored = await health.get_many(list(latest))
    return {
        channel_id: event
        for channel_id, event in latest.items()
        if channel_id not in stored or _when(stored[channel_id]) <= event.changed_at
    }


def _when(doc: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(doc["changed_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
