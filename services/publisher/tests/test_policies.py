"""Plain logic: backoff schedule, token bucket, circuit breaker, offsets, Apprise mapping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from apprise.result import AppriseResultStatus
from hypothesis import given
from hypothesis import strategies as st
from siaran_publisher.apprise_sender import classify_apprise
from siaran_publisher.backoff import RetryPolicy
from siaran_publisher.breaker import Breakers
from siaran_publisher.offsets import PartitionOffsets
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.ratelimit import TokenBucket
from siaran_publisher.tally import Tally
from siaran_shared.events import ChannelHealth

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, max_age=timedelta(hours=1), base=2.0, cap=60.0)


@given(attempts=st.integers(1, 30), seed=st.integers())
def test_backoff_is_full_jitter_within_the_exponential_ceiling(attempts: int, seed: int) -> None:
    delay = POLICY.delay(attempts, rng=random.Random(seed))
    assert 0 <= delay <= min(60.0, 2.0 * 2 ** (attempts - 1))


def test_retry_after_is_a_floor() -> None:
    assert POLICY.delay(1, retry_after=7.5, rng=random.Random(1)) >= 7.5


def test_attempts_and_age_bound_the_retries() -> None:
    assert POLICY.next_attempt_at(4, NOW, NOW) is not None
    assert POLICY.next_attempt_at(5, NOW, NOW) is None
    old = NOW - timedelta(minutes=59, seconds=59)
    assert POLICY.next_attempt_at(1, NOW, old, retry_after=30) is None


def test_token_bucket_spaces_sends_at_the_rate() -> None:
    bucket = TokenBucket.for_rate(60)  # one a second, burst 1
    waits = [bucket.reserve(100.0) for _ in range(4)]
    assert waits == [0.0, 1.0, 2.0, 3.0]
    assert bucket.reserve(110.0) == 0.0


def test_token_bucket_allows_a_burst() -> None:
    bucket = TokenBucket.for_rate(600)  # ten a second, burst 10
    waits = [bucket.reserve(0.0) for _ in range(11)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] > 0


def test_breaker_opens_probes_and_closes() -> None:
    breakers = Breakers(threshold=3, cooldown=10.0)
    c = breakers.circuit("ch", "web", "73")
    fail = Attempt(Verdict.RETRY, "HTTP 503", status=503)
    for _ in range(3):
        assert breakers.admit(c, 0.0) == 0
        breakers.record(c, fail, 0.0)
    assert c.state is ChannelHealth.OPEN
    assert breakers.admit(c, 5.0) == 5.0  # not hammered while open
    assert breakers.admit(c, 10.0) == 0  # the probe
    assert c.state is ChannelHealth.HALF_OPEN
    assert breakers.admit(c, 10.0) > 0  # only one probe at a time
    breakers.record(c, Attempt(Verdict.DELIVERED, "HTTP 200", status=200), 10.5)
    assert c.state is ChannelHealth.HEALTHY
    states = [e.state for e in breakers.drain_changes()]
    assert states == [ChannelHealth.DEGRADED, ChannelHealth.OPEN, ChannelHealth.HALF_OPEN,
                      ChannelHealth.HEALTHY]  # fmt: skip
    assert breakers.counts("web") == {"closed": 1, "open": 0, "half_open": 0,
                                      "needs_reconnect": 0}  # fmt: skip


def test_unauthorised_marks_needs_reconnect() -> None:
    breakers = Breakers(threshold=3, cooldown=10.0)
    c = breakers.circuit("ch", "x", "ID")
    breakers.record(c, Attempt(Verdict.PERMANENT, "HTTP 401", status=401), 0.0)
    assert c.state is ChannelHealth.NEEDS_RECONNECT
    assert breakers.admit(c, 1.0) > 0
    assert breakers.counts("x")["needs_reconnect"] == 1


def test_circuit_counts_follow_every_change_and_a_change_of_kind() -> None:
    breakers = Breakers(threshold=2, cooldown=10.0)
    fail = Attempt(Verdict.RETRY, "HTTP 503", status=503)
    circuits = [breakers.circuit(f"ch{i}", "web", "ID") for i in range(5)]
    for c in circuits[:3]:
        breakers.record(c, fail, 0.0)
        breakers.record(c, fail, 0.0)  # open
    breakers.record(circuits[0], Attempt(Verdict.DELIVERED, "HTTP 200", status=200), 1.0)
    assert breakers.counts("web") == {"closed": 3, "open": 2, "half_open": 0,
                                      "needs_reconnect": 0}  # fmt: skip
    breakers.circuit("ch1", "x", "ID")  # the channel was reconfigured as another kind
    assert breakers.counts("web")["open"] == 1
    assert breakers.counts("x") == {"closed": 0, "open": 1, "half_open": 0,
                                    "needs_reconnect": 0}  # fmt: skip


def test_offsets_commit_only_up_to_the_first_unfinished() -> None:
    offsets = PartitionOffsets()
    for o in (10, 11, 12, 13):
        offsets.started(o)
    offsets.finished(11)
    offsets.finished(12)
    assert offsets.committable() is None or offsets.committable() == 10
    offsets.finished(10)
    assert offsets.committable() == 13
    offsets.committed(13)
    assert offsets.committable() is None
    offsets.finished(13)
    assert offsets.committable() == 14


def test_apprise_results_map_to_verdicts() -> None:
    ok = classify_apprise(AppriseResultStatus.SUCCESS, [])
    assert ok.verdict is Verdict.DELIVERED
    overloaded = "Failed to send JSON POST notification: Servers are overloaded., error=503."
    busy = classify_apprise(AppriseResultStatus.FAILURE, [overloaded])
    assert busy.verdict is Verdict.RETRY
    assert busy.status == 503
    bad = classify_apprise(AppriseResultStatus.FAILURE, ["Bad Request, error=400."])
    assert bad.verdict is Verdict.PERMANENT
    auth = classify_apprise(AppriseResultStatus.FAILURE, ["Verification Failed., error=401."])
    assert auth.needs_reconnect
    down = classify_apprise(AppriseResultStatus.FAILURE, ["A Connection error occurred"])
    assert down.verdict is Verdict.RETRY
    assert classify_apprise(AppriseResultStatus.NOMATCH, []).verdict is Verdict.PERMANENT


def test_tally_logs_the_first_outcome_of_an_announcement_and_counts_the_rest() -> None:
    tally = Tally()
    assert tally.add("a1", "delivered", "0" * 32) is True
    assert tally.add("a1", "delivered") is False
    assert tally.add("a2", "delivered") is True
    tally.flush()
    assert tally.add("a1", "delivered") is False  # still remembered after a flush
