"""The bench's driver: the stack's address book, posting announcements, registering channels
and waiting for the receiver to count arrivals; the goals each figure is printed beside."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from siaran_cli.stack import Stack
from siaran_shared.regions import regions

from bench.publisher import KINDS, proc_status

#: The goals of issue 17 (2 cores, bundled broker, SQLite), printed beside each figure.
GOALS = {
    "fanout_seconds": 1.0,
    "slow_fanout_seconds": 2.5,
    "raw_ratio": 0.5,
    "apprise_ratio": 8.0,
    "light_p50_ms": 20.0,
    "light_p99_ms": 50.0,
    "rss_mb": 150.0,
    "scale_seconds": 60.0,
    "scale_cpu_ratio": 1.2,
    "scale_rss_mb": 300.0,
    "ingest_ratio": 0.5,
}


class Bench:
    def __init__(self, stack: Stack, key: str, receiver: str) -> None:
        self.stack = stack
        self.receiver = receiver
        self.headers = {"Authorization": f"Bearer {key}"}
        self.http = aiohttp.ClientSession()

    def url(self, service: str) -> str:
        return self.stack.config.url(service)

    async def register(self, run: str, path: str = "fast") -> int:
        """552 regions x 6 kinds (3,312 channels) at the receiver's `path` (fast: answers at
        once; slow: after a seeded log-normal delay), tagged with the run."""
        rows = [
            {"id": f"{run}-{code}-{kind}", "region": code, "kind": kind,
             "name": f"{code} {kind}", "endpoint": f"{self.receiver}/{path}/{run}/{code}-{kind}",
             "tags": [run]}
            for code in regions().by_code
            for kind in KINDS
        ]  # fmt: skip
        async with self.http.post(
            self.url("router") + "/v1/channels:import", json={"channels": rows},
            headers=self.headers,
        ) as r:  # fmt: skip
            assert r.status == 200, await r.text()
        return len(rows)

    async def announce(self, run: str, target: dict[str, Any]) -> tuple[str, float]:
        """Post an announcement; returns its id and the monotonic time of the 202."""
        announcement_id = f"{run}-{uuid.uuid4().hex[:10]}"
        body = {
            "id": announcement_id,
            "title": "Hari Kesehatan Nasional",
            "body": "Pemerintah mengajak seluruh masyarakat menjaga kesehatan. " * 4,
            "summary": "Jaga kesehatan dan kebersihan lingkungan.",
            "link": "https://example.go.id/berita/1",
            "hashtags": ["Sehat", "GPR"],
            "target": {**target, "tags": [run]},
        }
        async with self.http.post(
            self.url("ingest") + "/v1/announcements", json=body, headers=self.headers
        ) as r:
            assert r.status == 202, await r.text()
        return announcement_id, time.monotonic()

    async def received(self, run: str) -> dict[str, float]:
        """Idempotency-Key → first arrival, for every delivery to this run's channels."""
        async with self.http.get(f"{self.receiver}/stats", params={"run": run, "times": "1"}) as r:
            times: dict[str, float] = (await r.json())["times"]
        return times

    async def wait_for(
        self, run: str, prefixes: dict[str, int], within: float, *, stall: float | None = None
    ) -> dict[str, float]:
        """Wait until each announcement id prefix has its expected count of deliveries, then
        read the arrival times once (polling only counts keeps the receiver's and this
        process's share of the two cores small while Siaran is being measured).

        With `stall`, `within` is only how long to wait for the first arrival: the wait goes
        on while deliveries keep arriving, and gives up after `stall` seconds without one (a
        backlog on a slow machine takes as long as it takes; a lost delivery shows at once)."""
        deadline = time.monotonic() + within
        arrived, progress = -1, time.monotonic()
        while time.monotonic() < deadline:
            async with self.http.get(
                f"{self.receiver}/stats", params={"run": run, "groups": "1"}
            ) as r:
                groups: dict[str, int] = (await r.json())["groups"]
            if all(groups.get(p, 0) >= n for p, n in prefixes.items()):
                break
            if stall is not None:
                now = sum(groups.get(p, 0) for p in prefixes)
                if now > arrived:
                    arrived, progress = now, time.monotonic()
                    deadline = max(deadline, progress + stall)
            await asyncio.sleep(0.1)
        return await self.received(run)

    async def doubled(self, run: str) -> int:
        """How many requests to this run's channels repeated a key that had arrived before."""
        async with self.http.get(f"{self.receiver}/stats", params={"run": run}) as r:
            doubled: int = (await r.json())["doubled"]
        return doubled

    async def close(self) -> None:
        await self.http.close()


def expected(target: dict[str, Any]) -> int:
    r = regions()
    if target.get("national"):
        n = len(r.by_code)
    elif "provinces" in target:
        n = sum(1 + len(r.regencies_of(p)) for p in target["provinces"])
    else:
        n = len(target["regencies"])
    return n * (len(target["kinds"]) if "kinds" in target else len(KINDS))


def mixed_target(rng: random.Random) -> dict[str, Any]:
    r = regions()
    roll = rng.random()
    if roll < 0.1:
        return {"national": True, "kinds": rng.sample(KINDS, 2)}
    if roll < 0.6:
        return {"provinces": [rng.choice(r.provinces)]}
    return {"regencies": rng.sample(r.regencies, 5)}


async def national_fanout(
    bench: Bench, run: str, repeats: int, *, figure: str = "national fan-out",
    goal: float = GOALS["fanout_seconds"],
) -> dict[str, Any]:  # fmt: skip
    """National announcements one after another (each once the last finished): the median
    202 → last of 3,312 received, and every run's figure."""
    n = expected({"national": True})
    seconds, firsts = [], []
    for _ in range(repeats):
        announcement_id, accepted = await bench.announce(run, {"national": True})
        times = await bench.wait_for(run, {announcement_id: n}, within=120)
        mine = [t for k, t in times.items() if k.startswith(f"{announcement_id}:")]
        if len(mine) < n:
            raise RuntimeError(f"national fan-out: {len(mine)} of {n} received in 120 s")
        seconds.append(round(max(mine) - accepted, 3))
        firsts.append(round(min(mine) - accepted, 3))
    return {"figure": figure, "deliveries": n,
            "seconds": sorted(seconds)[len(seconds) // 2], "runs": seconds,
            "first_after": sorted(firsts)[len(firsts) // 2],
            "goal_seconds": goal}  # fmt: skip


def cpu_ticks(pids: dict[str, int]) -> dict[str, int]:
    """CPU clock ticks each process has used so far."""
    return {name: proc_status(pid).get("cpu_ticks", 0) for name, pid in pids.items()}


def cpu_per_delivery(
    pids: dict[str, int], before: dict[str, int], deliveries: int
) -> dict[str, float]:
    """CPU milliseconds per delivery of each process since `before`."""
    ticks = os.sysconf("SC_CLK_TCK")
    after = cpu_ticks(pids)
    return {
        name: round((after[name] - before[name]) / ticks * 1000 / max(deliveries, 1), 3)
        for name in pids
    }


STORED = ("ingest", "router", "publisher", "metrics")
_WRITES = ("siaran_store_writes_total", "siaran_store_documents_written_total")


async def store_writes(bench: Bench) -> dict[str, tuple[float, float]]:
    """Each service's store writes so far (round trips, documents), from its /metrics."""
    counts = {}
    for name in STORED:
        async with bench.http.get(bench.url(name) + "/metrics") as r:
            text = await r.text()
        counts[name] = tuple(
            sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith((series + "{", series + " ")))
            for series in _WRITES
        )  # fmt: skip
    return counts  # type: ignore[return-value]


async def store_writes_settled(
    bench: Bench, within: float = 30.0
) -> dict[str, tuple[float, float]]:
    """`store_writes` once two readings a second apart agree (metrics records outcomes a
    little after the receiver counted them), or after `within` seconds."""
    last = await store_writes(bench)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = await store_writes(bench)
        if now == last:
            break
        last = now
    return last


def writes_per_delivery(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], deliveries: int
) -> dict[str, dict[str, float]]:
    """Store round trips and documents written per delivery, per service."""
    n = max(deliveries, 1)
    return {
        name: {"writes": round((after[name][0] - before[name][0]) / n, 3),
               "documents": round((after[name][1] - before[name][1]) / n, 3)}
        for name in after
    }  # fmt: skip


def stored_bytes(home: Path, rows_at_least: int) -> dict[str, dict[str, int]]:
    """Per service, the collections holding at least `rows_at_least` documents and the bytes
    of JSON each document takes on average (the SQLite files, read-only)."""
    sizes: dict[str, dict[str, int]] = {}
    for name in STORED:
        path = home / f"{name}.db"
        if not path.exists():
            continue
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = [
                t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
                if "doc" not in columns:
                    continue
                rows, total = db.execute(
                    f"SELECT COUNT(*), SUM(LENGTH(CAST(doc AS BLOB))) FROM {table}"  # noqa: S608 - names read from sqlite_master
                ).fetchone()
                if rows >= rows_at_least:
                    sizes.setdefault(name, {})[table] = round((total or 0) / rows)
    return sizes
