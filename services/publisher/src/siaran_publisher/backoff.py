"""When to try again: exponential backoff with full jitter, honouring Retry-After,
within a maximum number of attempts and a maximum age."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    max_age: timedelta
    base: float
    cap: float

    def delay(
        self, attempts: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after `attempts` failed attempts (full jitter, at least Retry-After)."""
        ceiling = min(self.cap, self.base * 2 ** max(attempts - 1, 0))
        jittered = (rng or random).uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)

    def next_attempt_at(
        self,
        attempts: int,
        now: datetime,
        due_since: datetime,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again, or None when the attempts or the age are used up."""
        if attempts >= self.max_attempts:
            return None
        at = now + timedelta(seconds=self.delay(attempts, retry_after, rng))
        if at > due_since + self.max_age:
            return None
        return at
