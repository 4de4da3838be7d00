"""The phases of `make bench` beyond the first national fan-out: sustained load, light-load
latency, ingest against a produce-only endpoint, replicas, the slow network and the
100,000-channel registry."""

from __future__ import annotations

import asyncio
import csv
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from siaran_cli.stack import Child, free_port
from siaran_shared.regions import regions

from bench.driver import (
    GOALS,
    Bench,
    cpu_per_delivery,
    cpu_ticks,
    expected,
    mixed_target,
    national_fanout,
    store_writes_settled,
    stored_bytes,
    writes_per_delivery,
)
from bench.ingest import BODY, closed_loop
from bench.publisher import KINDS, proc_status

#: What the ingest phase posts: a valid announcement of a kind no bench channel has, so the
#: router plans nothing and the phase measures the front door alone.
INGEST_BODY = BODY | {"target": {"provinces": ["73"], "kinds": ["email"]}}


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
    times = await bench.wait_for(run, wanted, within=max(120, seconds * 3), stall=30)
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


async def ingest_vs_produce_only(
    bench: Bench, pids: dict[str, int], seconds: float, printer: Any, concurrency: int = 64
) -> dict[str, Any]:
    """Ingest's throughput (authentication, validation, archive, produce, acknowledgement)
    against a FastAPI endpoint that only produces the body to the same broker (its own
    process, started here), both driven to the full at `concurrency` requests in flight."""
    port = free_port()
    command = [sys.executable, "-m", "bench.ingest", "--serve-baseline", str(port),
               bench.stack.config.bootstrap]  # fmt: skip
    baseline = Child("produce-only", command, {**os.environ, "PYTHONUNBUFFERED": "1"}, printer)
    token = bench.headers["Authorization"].removeprefix("Bearer ")
    rows: dict[str, Any] = {}
    await baseline.start()
    try:
        await _ready(f"http://127.0.0.1:{port}", "the produce-only endpoint")
        servers = {
            "produce_only": (f"http://127.0.0.1:{port}", baseline.proc),
            "ingest": (bench.url("ingest"), bench.stack.services["ingest"].proc),
        }
        for name, (url, proc) in servers.items():
            url += "/v1/announcements"
            await closed_loop(url, token, 1, 16, INGEST_BODY)  # warm-up
            watched = {"server": proc.pid if proc else 0, "broker": pids["broker"]}
            before = cpu_ticks(watched)
            latencies, errors, elapsed = await closed_loop(
                url, token, seconds, concurrency, INGEST_BODY
            )
            cpu = cpu_per_delivery(watched, before, len(latencies))
            rows[f"{name}_per_second"] = round(len(latencies) / elapsed, 1)
            rows[f"{name}_errors"] = errors
            rows[f"{name}_cpu_ms_per_request"] = cpu["server"]
            rows[f"{name}_broker_cpu_ms_per_request"] = cpu["broker"]
    finally:
        await baseline.stop()
    ratio = rows["ingest_per_second"] / max(rows["produce_only_per_second"], 1e-9)
    return {"figure": "ingest vs produce-only", "ratio": round(ratio, 3),
            "goal_ratio": GOALS["ingest_ratio"], **rows}  # fmt: skip


async def replicas(bench: Bench, run: str, repeats: int, printer: Any) -> dict[str, Any]:
    """A second router and a second publisher join the stack (same broker, same stores, as
    replicas in a deployment would share them): national fan-outs to the same channels, and
    how many deliveries arrived twice (the goal is 0)."""
    extra: list[Child] = []
    try:
        for name in ("router", "publisher"):
            port = free_port()
            env = {**bench.stack.config.service_env(name), "SIARAN_PORT": str(port)}
            child = Child(f"{name}-2", [sys.executable, "-m", f"siaran_{name}"], env, printer)
            await child.start()
            extra.append(child)
            await _ready(f"http://127.0.0.1:{port}", f"{name}-2")
        before = await bench.doubled(run)
        figure = await national_fanout(
            bench, run, repeats, figure="replicas: national fan-out", goal=GOALS["fanout_seconds"]
        )
        doubled = await bench.doubled(run) - before
    finally:
        for child in extra:
            await child.stop()
    return figure | {"processes": "2 routers, 2 publishers", "doubled": doubled, "goal_doubled": 0}


async def _ready(url: str, what: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {within:.0f} s")


def write_registry(path: Path, run: str, receiver: str, count: int) -> None:
    """`count` channels spread over the 552 regions and the six kinds, as a CSV file."""
    codes = list(regions().by_code)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("id", "region", "kind", "name", "endpoint", "tags"))
        for i in range(count):
            code, kind = codes[i % len(codes)], KINDS[(i // len(codes)) % len(KINDS)]
            writer.writerow((f"{run}-{i}", code, kind, f"Akun {i}",
                             f"{receiver}/fast/{run}/{i}", run))  # fmt: skip


async def scale(
    bench: Bench, home: Path, pids: dict[str, int], reference: dict[str, float], count: int
) -> dict[str, Any]:
    """`count` channels imported with `siaran channels import` (as an operator would), then
    one national announcement to them: 202 → last received, the CPU each process spent per
    delivery against the 3,312-channel fan-out's (`reference`)."""
    run = f"scale{uuid.uuid4().hex[:6]}"
    file = home / f"{run}.csv"
    write_registry(file, run, bench.receiver, count)
    started = time.monotonic()
    siaran = str(Path(sys.executable).with_name("siaran"))
    proc = await asyncio.create_subprocess_exec(
        siaran, "channels", "import", str(file), "--router-url", bench.url("router"),
        "--api-key", bench.headers["Authorization"].removeprefix("Bearer "),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"siaran channels import failed: {output.decode()[-2000:]}")
    imported = time.monotonic() - started
    # the peak so far is the import's: the fan-out's own peak shows against it
    import_peak = {name: round(proc_status(pid).get("VmHWM", 0) / 1024, 1)
                   for name, pid in pids.items()}  # fmt: skip
    before = cpu_ticks(pids)
    writes = await store_writes_settled(bench)
    announcement_id, accepted = await bench.announce(run, {"national": True})
    times = await bench.wait_for(run, {announcement_id: count}, within=600, stall=60)
    mine = [t for k, t in times.items() if k.startswith(f"{announcement_id}:")]
    cpu = cpu_per_delivery(pids, before, count)
    store = writes_per_delivery(writes, await store_writes_settled(bench), count)
    ratio = {name: round(cpu[name] / reference[name], 2) for name in cpu if reference.get(name)}
    return {"figure": "scale: national fan-out", "channels": count, "received": len(mine),
            "import_seconds": round(imported, 1), "peak_rss_mb_after_import": import_peak,
            "seconds": round(max(mine, default=accepted) - accepted, 2),
            "goal_seconds": GOALS["scale_seconds"], "cpu_ms_per_delivery": cpu,
            "cpu_vs_3312": ratio, "goal_cpu_vs_3312": GOALS["scale_cpu_ratio"],
            "store_per_delivery": store,
            "stored_bytes_per_document": stored_bytes(home, count // 2)}  # fmt: skip
