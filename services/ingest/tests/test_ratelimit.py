"""The per-key token bucket, on a fake clock."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from siaran_ingest.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("k") == 0.5
    clock.now += 0.5
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == 0.5


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=Clock())
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_zero_rate_turns_the_limit_off() -> None:
    limiter = RateLimiter(rate=0, burst=1, clock=Clock())
    assert all(limiter.acquire("k") == 0.0 for _ in range(1000))


def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=5, clock=clock)
    limiter.acquire("k")
    clock.now += 3600
    assert sum(limiter.acquire("k") == 0.0 for _ in range(20)) == 5


@given(
    rate=st.floats(0.1, 1000),
    burst=st.integers(1, 100),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    clock = Clock()
    limiter = RateLimiter(rate=rate, burst=burst, clock=clock)
    start, allowed = clock.now, 0
    for gap in gaps:
        clock.now += gap
        wait = limiter.acquire("k")
        assert wait >= 0
        allowed += wait == 0.0
    assert allowed <= burst + rate * (clock.now - start) + 1e-6
