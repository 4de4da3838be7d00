"""Circuit breaker per channel: opened after repeated failures, probed after a cool-down,
closed by a success; 401/403 mark the channel "needs reconnect" (probed after the cool-down,
except where a platform said its token expired or was revoked: that one stays until the
channel is saved again, see channels.Reconnects, and its state changes once). Every change of state
becomes a ChannelHealthChanged event for the router and the dashboards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from siaran_shared.events import ChannelHealth, ChannelHealthChanged

from siaran_publisher.outcome import Attempt, Verdict

#: How ChannelHealth maps to the `state` label of siaran_channel_circuit_state.
CIRCUIT_STATE = {
    ChannelHealth.HEALTHY: "closed",
    ChannelHealth.DEGRADED: "closed",
    ChannelHealth.OPEN: "open",
    ChannelHealth.HALF_OPEN: "half_open",
    ChannelHealth.NEEDS_RECONNECT: "needs_reconnect",
}
_STATES = tuple(dict.fromkeys(CIRCUIT_STATE.values()))
#: Longest a task waits for a probe already in flight before it asks again.
PROBE_WAIT = 2.0


@dataclass(slots=True)
class Circuit:
    channel_id: str
    kind: str
    province: str
    state: ChannelHealth = ChannelHealth.HEALTHY
    failures: int = 0
    open_until: float = 0.0
    probing: bool = False
    reason: str | None = None
    #: a platform refused the token: no probe by time; every send goes to the transport,
    #: which refuses it at once until the channel is saved again (channels.Reconnects)
    token_dead: bool = False


class Breakers:
    """The circuits of the channels this instance has sent to."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._circuits: dict[str, Circuit] = {}
        self._changes: list[ChannelHealthChanged] = []
        # (kind, circuit state label) -> channels, kept as circuits change: counting them
        # anew per change is quadratic in a fan-out where every channel answers 429
        self._counts: Counter[tuple[str, str]] = Counter()

    def circuit(self, channel_id: str, kind: str, province: str) -> Circuit:
        c = self._circuits.get(channel_id)
        if c is None:
            c = self._circuits[channel_id] = Circuit(channel_id, kind, province)
            self._counts[(kind, CIRCUIT_STATE[c.state])] += 1
        elif c.kind != kind:
            self._counts[(c.kind, CIRCUIT_STATE[c.state])] -= 1
            self._counts[(kind, CIRCUIT_STATE[c.state])] += 1
        c.kind, c.province = kind, province
        return c

    def admit(self, c: Circuit, now: float) -> float:
        """0 when a send may go now; else the seconds to wait before asking again."""
        if c.token_dead:
            return 0.0
        if c.state in (ChannelHealth.OPEN, ChannelHealth.NEEDS_RECONNECT):
            if now < c.open_until:
                return c.open_until - now
            self._move(c, ChannelHealth.HALF_OPEN)
            c.probing = True
            return 0.0
        if c.state is ChannelHealth.HALF_OPEN:
            if c.probing:
                return min(self.cooldown, PROBE_WAIT)
            c.probing = True
        return 0.0

    def record(self, c: Circuit, attempt: Attempt, now: float) -> None:
        """Account one attempt's result."""
        c.probing = False
        if attempt.token_dead or (c.token_dead and attempt.verdict is not Verdict.DELIVERED):
            # only a post made after the channel was saved again lifts it (an answer to a
            # send that was in flight when the token was refused does not)
            c.token_dead = True
            c.failures += 1
            self._move(c, ChannelHealth.NEEDS_RECONNECT, attempt.summary)
            return
        c.token_dead = False
        if attempt.needs_reconnect:
            c.failures += 1
            c.open_until = now + self.cooldown
            self._move(c, ChannelHealth.NEEDS_RECONNECT, attempt.summary)
        elif attempt.verdict is Verdict.RETRY and not attempt.processing:
            c.failures += 1
            if c.state is ChannelHealth.HALF_OPEN or c.failures >= self.threshold:
                c.open_until = now + self.cooldown
                self._move(c, ChannelHealth.OPEN, attempt.summary)
            elif c.state is ChannelHealth.HEALTHY:
                self._move(c, ChannelHealth.DEGRADED, attempt.summary)
        else:  # delivered, or an answer that proves the channel is reachable
            c.failures = 0
            if c.state is not ChannelHealth.HEALTHY:
                self._move(c, ChannelHealth.HEALTHY, None)

    def _move(self, c: Circuit, state: ChannelHealth, reason: str | None = None) -> None:
        if c.state is state:
            return
        self._counts[(c.kind, CIRCUIT_STATE[c.state])] -= 1
        self._counts[(c.kind, CIRCUIT_STATE[state])] += 1
        c.state = state
        c.reason = reason
        self._changes.append(
            ChannelHealthChanged(
                channel_id=c.channel_id,
                kind=c.kind,
                province=c.province,
                state=state,
                reason=reason[:300] if reason else None,
                consecutive_failures=c.failures,
            )
        )

    def drain_changes(self) -> list[ChannelHealthChanged]:
        """State changes since the last call, oldest first."""
        changes, self._changes = self._changes, []
        return changes

    def kinds(self) -> set[str]:
        """The channel kinds that have a circuit."""
        return {kind for kind, _ in self._counts}

    def counts(self, kind: str) -> dict[str, int]:
        """Channels of one kind in each circuit state (every state, 0 included)."""
        return {state: self._counts[(kind, state)] for state in _STATES}
