"""What this instance alone knows about its claims, between their store writes.

- in flight: claimed here and being sent; a second copy of the task arriving meanwhile is
  "busy" without a store read;
- unrecorded: sent, but the outcome's write is not durable yet (it failed); until it is,
  the next copy of the task writes it again instead of sending (never twice, also when the
  store fails right after a post)."""

from __future__ import annotations

from siaran_shared.events import DeliveryCompleted

from siaran_publisher.claims.records import Claim


class LocalClaims:
    """Claims held by this instance, by key."""

    def __init__(self) -> None:
        self._in_flight: dict[str, Claim] = {}
        self._unrecorded: dict[str, DeliveryCompleted] = {}

    def holding(self, claim: Claim) -> None:
        """A claim this instance won and is sending."""
        self._in_flight[claim.key] = claim

    def held(self, key: str) -> Claim | None:
        return self._in_flight.get(key)

    def recording(self, key: str, outcome: DeliveryCompleted) -> None:
        """An outcome about to be written; kept until `recorded`."""
        self._unrecorded[key] = outcome

    def unrecorded(self, key: str) -> DeliveryCompleted | None:
        return self._unrecorded.get(key)

    def recorded(self, key: str) -> None:
        """The outcome's write is durable: the claim is no longer this instance's concern."""
        self._unrecorded.pop(key, None)
        self._in_flight.pop(key, None)

    def handed_over(self, key: str) -> None:
        """The claim went to the durable schedule (or was dropped): not held here any more."""
        self._in_flight.pop(key, None)
