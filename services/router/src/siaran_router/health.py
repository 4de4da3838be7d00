"""Channel health as the publisher reports it, kept for GET /v1/channels/{id}; the only
place that knows how it is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from siaran_shared.channel_health import newest_health
from siaran_shared.events import ChannelHealth, ChannelHealthChanged
from siaran_shared.store import Collection


class HealthReport(BaseModel):
    """The latest state the publisher reported for a channel."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: ChannelHealth
    reason: str | None = None
    consecutive_failures: int = 0
    changed_at: datetime

    @classmethod
    def of(cls, event: ChannelHealthChanged) -> HealthReport:
        return cls(state=event.state, reason=event.reason,
                   consecutive_failures=event.consecutive_failures,
                   changed_at=event.changed_at)  # fmt: skip


class HealthReports:
    """The health repository over the store's `channel_health` collection."""

    def __init__(self, health: Collection) -> None:
        self._health = health

    async def get(self, channel_id: str) -> HealthReport | None:
        doc = await self._health.get(channel_id)
        try:
            return None if doc is None else HealthReport.model_validate(doc)
        except ValidationError:  # a state this version does not know: reported as unknown
            return None

    async def record(self, events: Sequence[ChannelHealthChanged]) -> int:
        """Keep the latest state per channel (older reports never overwrite newer ones);
        returns how many channels changed."""
        newer = await newest_health(self._health, events)
        await self._health.put_many(
            {channel_id: _doc(HealthReport.of(event)) for channel_id, event in newer.items()}
        )
        return len(newer)


def _doc(report: HealthReport) -> dict[str, object]:
    # changed_at as isoformat() wrote it before: the API answers the string stored
    return report.model_dump(mode="json") | {"changed_at": report.changed_at.isoformat()}
