"""When to try a request again: exponential backoff with full jitter, honouring Retry-After,
within a maximum number of attempts and a maximum age. Webhook deliveries (the publisher)
and completion callbacks (metrics) are retried alike: 408, 429 and 5xx again, other 4xx not."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from siaran_shared.guard import RefusedAddress


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, for how long, and how far apart."""

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


def retried_status(status: int) -> bool:
    """Whether an HTTP answer is worth another attempt: 408, 429 and 5xx."""
    return status in (408, 429) or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def failure_of(exc: TimeoutError | aiohttp.ClientError) -> tuple[bool, str]:
    """What a request that raised says, for every sender alike: whether trying again may
    help, and in words. An address the guard refused never will; a timeout or another
    connection error may."""
    if isinstance(exc, TimeoutError):
        return True, "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, RefusedAddress):
        return False, f"endpoint refused: {exc.os_error}"
    return True, f"connection error: {type(exc).__name__}"
