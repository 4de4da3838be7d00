"""End-to-end benchmark (issue 8): the whole stack as `make run` starts it, 552 regions x 6
kinds of channels at a fast local receiver, and the figures Siaran promises.

    uv run python -m bench.e2e [--seconds 60] [--apprise-count 1000] [--light-seconds 10]

Figures, each printed as a table row and a JSON line (and saved under bench/results/):
- national fan-out (median of `--fanouts`): from the 202 of a national announcement to the
  last of its 3,312
  deliveries received;
- sustained deliveries/s over `--seconds` of mixed announcements (national, province,
  regency, by kind), and in the same run two baselines with their ratios: raw aiohttp posting
  the same count of CloudEvent bodies to the same receiver, and Apprise sending directly
  (`--apprise-count` notifications, its rate extrapolated to the same count);
- light-load latency, accepted (202) → received, p50 and p99, one regency announcement
  (6 deliveries) every 200 ms;
- peak RSS (VmHWM) of each service process.
Clocks: the receiver and this process read CLOCK_MONOTONIC on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from siaran_cli.dev import ensure_dev_key
from siaran_cli.stack import SERVICES, Stack, StackConfig, free_port
from siaran_shared.regions import regions

from bench.publisher import (
    KINDS,
    Result,
    apprise_run,
    proc_status,
    profiled,
    raw_run,
    start_receiver,
)

#: The goals of issue 17 (2 cores, bundled broker, SQLite), printed beside each figure.
GOALS = {
    "fanout_seconds": 1.0,
    "slow_fanout_seconds": 2.5,
    "raw_ratio": 0.5,
    "apprise_ratio": 8.0,
    "light_p50_ms": 20.0,
    "light_p99_ms": 50.0,
    "rss_mb": 150.0,
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

    async def wait_for(self, run: str, prefixes: dict[str, int], within: float) -> dict[str, float]:
        """Wait until each announcement id prefix has its expected count of deliveries, then
        read the arrival times once (polling only counts keeps the receiver's and this
        process's share of the two cores small while Siaran is being measured)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with self.http.get(
                f"{self.receiver}/stats", params={"run": run, "groups": "1"}
            ) as r:
                groups: dict[str, int] = (await r.json())["groups"]
            if all(groups.get(p, 0) >= n for p, n in prefixes.items()):
                break
            await asyncio.sleep(0.1)
        return await self.received(run)

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


async def slow_network(bench: Bench, repeats: int) -> dict[str, Any]:
    """The national fan-out again, to 3,312 channels of a receiver that answers like distant
    servers (median 150 ms, p99 1.5 s): what in-flight capacity, not CPU, decides. Run last:
    its channels double the registry the other phases would read."""
    run = f"slow{uuid.uuid4().hex[:6]}"
    await bench.register(run, path="slow")
    return await national_fanout(
        bench, run, repeats, figure="slow-network fan-out", goal=GOALS["slow_fanout_seconds"]
    )


async def sustained(
    bench: Bench, run: str, seconds: float, args_interval: float
) -> tuple[dict[str, Any], int]:
    """Mixed announcements every `args_interval` s for `seconds` (offered faster than Siaran
    delivers, so the rate measured is its capacity: all deliveries / first post → last receipt)."""
    rng = random.Random(8)
    wanted: dict[str, int] = {}
    first = time.monotonic()
    while time.monotonic() - first < seconds:
        target = mixed_target(rng)
        announcement_id, _ = await bench.announce(run, target)
        wanted[announcement_id] = expected(target)
        await asyncio.sleep(args_interval)
    times = await bench.wait_for(run, wanted, within=max(120, seconds * 3))
    mine = [t for k, t in times.items() if k.split(":", 1)[0] in wanted]
    last = max(mine, default=first)
    total = sum(wanted.values())
    return (
        {"figure": "sustained", "announcements": len(wanted), "deliveries": total,
         "received": len(mine), "seconds": round(last - first, 2),
         "per_second": round(len(mine) / (last - first), 1)},
        total,
    )  # fmt: skip


async def light_load(bench: Bench, run: str, seconds: float) -> dict[str, Any]:
    rng = random.Random(3)
    accepted: dict[str, float] = {}
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        regency = rng.choice(regions().regencies)
        announcement_id, at = await bench.announce(run, {"regencies": [regency]})
        accepted[announcement_id] = at
        await asyncio.sleep(0.2)
    times = await bench.wait_for(run, {a: len(KINDS) for a in accepted}, within=60)
    latencies = sorted(
        t - accepted[k.split(":", 1)[0]] for k, t in times.items() if k.split(":", 1)[0] in accepted
    )

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {"figure": "light-load latency", "deliveries": len(latencies),
            "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "goal_p50_ms": GOALS["light_p50_ms"], "goal_p99_ms": GOALS["light_p99_ms"]}  # fmt: skip


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    home = Path(tempfile.mkdtemp(prefix="siaran-bench-e2e-"))
    log = (home / "stack.log").open("a", encoding="utf-8")

    def printer(name: str, line: str) -> None:
        log.write(f"{name:>9} | {line}\n")

    config = StackConfig.on_free_ports(
        home,
        extra_env={
            "SIARAN_INGEST_RATE_PER_SECOND": "0",
            "SIARAN_LOG_LEVEL": args.log_level,
            **dict(e.split("=", 1) for e in args.env),
        },
    )
    key = ensure_dev_key(home).read_text().strip()
    receiver_port = free_port()
    receiver_proc = await start_receiver(receiver_port, 1e9)
    receiver = f"http://127.0.0.1:{receiver_port}"
    stack = Stack(config, printer)
    rows: list[dict[str, Any]] = []
    try:
        await stack.start_broker()
        await stack.start_services()
        await stack.wait_ready(120)
        bench = Bench(stack, key, receiver)
        try:
            run_id = f"e2e{uuid.uuid4().hex[:6]}"
            channels = await bench.register(run_id)
            print(f"registered {channels} channels; warming up", flush=True)
            warm, _ = await bench.announce(run_id, {"regencies": ["73.03"]})
            await bench.wait_for(run_id, {warm: len(KINDS)}, within=60)
            rows.append(await national_fanout(bench, run_id, args.fanouts))
            print(rows[-1], flush=True)
            pids = {name: c.proc.pid for name, c in stack.services.items() if c.proc}
            if stack.broker is not None and stack.broker.proc is not None:
                pids["broker"] = stack.broker.proc.pid
            pids["receiver"] = receiver_proc.pid
            pids["driver"] = os.getpid()
            before = {name: proc_status(pid).get("cpu_ticks", 0) for name, pid in pids.items()}
            async with contextlib.AsyncExitStack() as spies:
                if args.profile:
                    os.makedirs(args.profile, exist_ok=True)
                    for name in SERVICES:
                        out = str(Path(args.profile) / f"{name}.txt")
                        await spies.enter_async_context(profiled(pids[name], out))
                figure, total = await sustained(bench, run_id, args.seconds, args.interval)
            rows.append(figure)
            print(rows[-1], flush=True)
            ticks = os.sysconf("SC_CLK_TCK")
            rows.append(
                {"figure": "CPU ms per delivery (sustained)"}
                | {name: round((proc_status(pid).get("cpu_ticks", 0) - before[name]) / ticks
                               * 1000 / max(total, 1), 3)
                   for name, pid in pids.items()}
            )  # fmt: skip
            raw = await raw_run(bench.http, receiver, "fast", "fast", total, 64)
            rows.append({"figure": "baseline raw aiohttp", "deliveries": total,
                         "per_second": round(raw.per_second, 1)})  # fmt: skip
            apprise: Result = await apprise_run(
                bench.http, receiver_port, receiver, args.apprise_count, 32
            )
            rows.append({"figure": "baseline Apprise", "deliveries": args.apprise_count,
                         "per_second": round(apprise.per_second, 1)})  # fmt: skip
            siaran_rate = figure["per_second"]
            rows.append({"figure": "ratios",
                         "siaran_vs_raw": round(siaran_rate / raw.per_second, 3),
                         "goal_vs_raw": GOALS["raw_ratio"],
                         "siaran_vs_apprise": round(siaran_rate / apprise.per_second, 2),
                         "goal_vs_apprise": GOALS["apprise_ratio"]})  # fmt: skip
            rows.append(await light_load(bench, run_id, args.light_seconds))
            rows.append(await slow_network(bench, args.fanouts))
            print(rows[-1], flush=True)
            rss = {}
            for name, child in stack.services.items():
                if child.proc is not None:
                    rss[name] = round(proc_status(child.proc.pid).get("VmHWM", 0) / 1024, 1)
            rows.append({"figure": "peak RSS MB", **rss, "goal_mb": GOALS["rss_mb"]})
        finally:
            await bench.close()
    finally:
        await stack.stop()
        receiver_proc.terminate()
        await receiver_proc.wait()
        log.close()
    print(f"(stack log: {home / 'stack.log'})")
    return rows


def report(rows: list[dict[str, Any]]) -> None:
    print(f"\nSiaran end-to-end, {os.cpu_count()} CPUs")
    for row in rows:
        name = row["figure"]
        rest = ", ".join(f"{k}={v}" for k, v in row.items() if k != "figure")
        print(f"  {name:<22} {rest}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"e2e-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    path.write_text("".join(json.dumps({"bench": "e2e", **r}) + "\n" for r in rows))
    for row in rows:
        print(json.dumps({"bench": "e2e", **row}))
    print(f"saved {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="posting phase length")
    parser.add_argument("--interval", type=float, default=0.05, help="between announcements")
    parser.add_argument("--apprise-count", type=int, default=1000)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of every service (repeatable)",
    )
    parser.add_argument("--fanouts", type=int, default=3, help="national fan-outs (median)")
    parser.add_argument("--light-seconds", type=float, default=10)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="py-spy each service during the sustained phase (raw stacks)",
    )
    report(uvloop.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
