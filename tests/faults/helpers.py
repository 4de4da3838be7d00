"""Shared pieces of the fault tests: a stack of its own per test, a national registry at a
de-duplicating receiver, and counts of what was lost and what was doubled."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from siaran_shared.regions import NATIONAL, regions

from tests.e2e.harness import Receiver, RunningStack, eventually, start_stack

#: Fast retries so an outage's recovery fits a bounded test; enough attempts to outlast a
#: 30 s outage at this pace (the defaults, 8 attempts from 2 s doubling, outlast ~4 minutes).
FAULT_ENV = {
    "SIARAN_RETRY_MAX_ATTEMPTS": "60",
    "SIARAN_RETRY_BASE_SECONDS": "0.5",
    "SIARAN_RETRY_MAX_DELAY_SECONDS": "3",
    "SIARAN_BREAKER_COOLDOWN_SECONDS": "2",
    "SIARAN_CLAIM_LEASE_SECONDS": "10",
}


async def fault_stack(home: Path, **env: str) -> RunningStack:
    return await start_stack(home, {**FAULT_ENV, **env})


@dataclass(frozen=True)
class Counts:
    expected: int
    unique: int
    doubled: int

    @property
    def lost(self) -> int:
        return self.expected - self.unique


def all_regions() -> list[str]:
    return [NATIONAL, *regions().by_code]


async def register_national(
    stack: RunningStack, receiver: Receiver, tag: str, *, path: str = "/f"
) -> int:
    """One web channel per region (553) at the receiver, tagged so only this test's
    announcements reach them; returns how many."""
    channels = [
        {
            "id": f"{tag}-{code}",
            "region": code,
            "kind": "web",
            "name": f"{tag} {code}",
            "endpoint": f"{receiver.base}{path}/{tag}/{code}",
            "tags": [tag],
        }
        for code in all_regions()
    ]
    async with stack.client("router") as router:
        r = await router.post("/v1/channels:import", json={"channels": channels})
        assert r.status_code == 200, r.text
    return len(channels)


async def announce_national(stack: RunningStack, tag: str) -> str:
    announcement_id = f"fault-{tag}-{uuid.uuid4().hex[:6]}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={
                "id": announcement_id,
                "title": "Uji ketahanan",
                "body": "Pengumuman nasional untuk uji gangguan.",
                "target": {"national": True, "tags": [tag]},
            },
        )
        assert r.status_code == 202, r.text
    return announcement_id


def counts(receiver: Receiver, announcement_id: str, expected: int) -> Counts:
    keys = Counter(
        r.headers.get("Idempotency-Key", "")
        for r in receiver.requests
        if r.headers.get("Idempotency-Key", "").startswith(f"{announcement_id}:")
    )
    return Counts(expected, len(keys), sum(n - 1 for n in keys.values() if n > 1))


async def all_received(
    receiver: Receiver, announcement_id: str, expected: int, within: float
) -> Counts:
    await eventually(
        lambda: counts(receiver, announcement_id, expected).unique >= expected,
        within=within,
        every=0.25,
        what=f"all {expected} deliveries of {announcement_id}",
    )
    return counts(receiver, announcement_id, expected)


async def fanout_started(receiver: Receiver, announcement_id: str, expected: int) -> Counts:
    """Wait until some deliveries arrived (well before the fan-out ends); return the counts."""
    await eventually(
        lambda: counts(receiver, announcement_id, expected).unique >= 20,
        within=60,
        what="the fan-out to start",
    )
    return counts(receiver, announcement_id, expected)
