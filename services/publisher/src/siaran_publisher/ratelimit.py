"""Per-channel rate limits: a token bucket kept as a theoretical arrival time (GCRA), so
a send can reserve its slot now and be told how long to wait for it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """`per_minute` sends a minute on average, bursts of up to `burst`."""

    per_minute: int
    burst: int
    _tat: float = field(default=0.0)  # when the bucket would be full again

    @classmethod
    def for_rate(cls, per_minute: int) -> TokenBucket:
        """A bucket allowing about one second's worth of sends at once (at least one)."""
        return cls(per_minute, max(1, per_minute // 60))

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute

    def reserve(self, now: float) -> float:
        """Take the next slot; the seconds until it may be used (0: send now)."""
        tat = max(self._tat, now)
        start = tat - (self.burst - 1) * self.interval
        wait = max(0.0, start - now)
        self._tat = tat + self.interval
        return wait


class RateLimits:
    """One bucket per channel; a channel's new rate replaces its bucket."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def reserve(self, channel_id: str, per_minute: int | None, now: float) -> float:
        """Seconds until this channel may be sent to (0 without a limit)."""
        if not per_minute:
            self._buckets.pop(channel_id, None)
            return 0.0
        bucket = self._buckets.get(channel_id)
        if bucket is None or bucket.per_minute != per_minute:
            bucket = self._buckets[channel_id] = TokenBucket.for_rate(per_minute)
        return bucket.reserve(now)
