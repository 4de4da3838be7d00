"""End-to-end benchmark (issues 8 and 17): the whole stack as `make run` starts it, 552
regions x 6 kinds of channels at a local receiver, and the figures Siaran promises, each
printed beside its goal.

    uv run python -m bench.e2e [--seconds 60] [--apprise-count 1000] [--light-seconds 10]
        [--scale 100000] [--no-replicas]

Figures, each printed as a table row and a JSON line (and saved under bench/results/):
- national fan-out (median of `--fanouts`): from the 202 of a national announcement to the
  last of its 3,312 deliveries received; each process's CPU per delivery, and each service's
  store round trips and documents written per delivery (`store_per_delivery`, from the
  `siaran_store_writes_total` and `siaran_store_documents_written_total` counters);
- sustained deliveries/s over `--seconds` of mixed announcements (national, province,
  regency, by kind), and in the same run two baselines with their ratios: raw aiohttp posting
  the same count of CloudEvent bodies to the same receiver, and Apprise sending directly
  (`--apprise-count` notifications, its rate extrapolated to the same count);
- light-load latency, accepted (202) → received, p50 and p99, one regency announcement
  (6 deliveries) every 200 ms;
- replicas: the national fan-out with a second router and a second publisher, and how many
  deliveries arrived twice;
- slow network: the national fan-out to a receiver answering like distant servers (seeded
  log-normal delays, median 150 ms, p99 1.5 s);
- peak RSS (VmHWM) of each service process, after each phase too (`peak_rss_mb`: the phase that
  raised a peak shows);
- scale: `--scale` channels (100,000) imported with `siaran channels import`, one national
  announcement, and the CPU per delivery against the 3,312-channel fan-out's, store writes
  per delivery, the JSON bytes of each large collection's documents (the ledger's among
  them); peak RSS again.
Clocks: the receiver and this process read CLOCK_MONOTONIC on one machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop
from siaran_cli.dev import ensure_dev_key
from siaran_cli.stack import SERVICES, Stack, StackConfig, free_port

from bench.driver import (
    GOALS,
    Bench,
    cpu_per_delivery,
    cpu_ticks,
    national_fanout,
    store_writes_settled,
    writes_per_delivery,
)
from bench.phases import (
    ingest_vs_produce_only,
    light_load,
    replicas,
    scale,
    slow_network,
    sustained,
)
from bench.publisher import (
    KINDS,
    Result,
    apprise_run,
    proc_status,
    profiled,
    raw_run,
    start_receiver,
)


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

    def add(row: dict[str, Any]) -> None:
        rows.append(row)
        print(row, flush=True)

    try:
        await stack.start_broker()
        await stack.start_services()
        await stack.wait_ready(120)
        bench = Bench(stack, key, receiver)
        try:
            await phases(args, bench, home, receiver_proc.pid, receiver_port, printer, add)
        finally:
            await bench.close()
    finally:
        await stack.stop()
        receiver_proc.terminate()
        await receiver_proc.wait()
        log.close()
    print(f"(stack log: {home / 'stack.log'})")
    return rows


async def phases(
    args: argparse.Namespace, bench: Bench, home: Path, receiver_pid: int, receiver_port: int,
    printer: Any, add: Any,
) -> None:  # fmt: skip
    """Every phase in order; the ones that grow the registry (slow network, scale) last."""
    stack = bench.stack
    run_id = f"e2e{uuid.uuid4().hex[:6]}"
    channels = await bench.register(run_id)
    print(f"registered {channels} channels; warming up", flush=True)
    warm, _ = await bench.announce(run_id, {"regencies": ["73.03"]})
    await bench.wait_for(run_id, {warm: len(KINDS)}, within=60)
    pids = {name: c.proc.pid for name, c in stack.services.items() if c.proc}
    if stack.broker is not None and stack.broker.proc is not None:
        pids["broker"] = stack.broker.proc.pid
    pids["receiver"] = receiver_pid
    pids["driver"] = os.getpid()
    before = cpu_ticks(pids)
    writes = await store_writes_settled(bench)
    fanout = await national_fanout(bench, run_id, args.fanouts)
    reference = cpu_per_delivery(pids, before, fanout["deliveries"] * args.fanouts)
    store = writes_per_delivery(
        writes, await store_writes_settled(bench), fanout["deliveries"] * args.fanouts
    )
    add(fanout | {"cpu_ms_per_delivery": reference, "store_per_delivery": store,
                  "peak_rss_mb": peak_rss(stack)})  # fmt: skip
    before = cpu_ticks(pids)
    async with contextlib.AsyncExitStack() as spies:
        if args.profile:
            os.makedirs(args.profile, exist_ok=True)
            for name in SERVICES:
                out = str(Path(args.profile) / f"{name}.txt")
                await spies.enter_async_context(profiled(pids[name], out))
        figure, total = await sustained(bench, run_id, args.seconds, args.interval)
    add(figure | {"peak_rss_mb": peak_rss(stack)})
    add({"figure": "CPU ms per delivery (sustained)"} | cpu_per_delivery(pids, before, total))
    raw = await raw_run(bench.http, bench.receiver, "fast", "fast", total, 64)
    add({"figure": "baseline raw aiohttp", "deliveries": total,
         "per_second": round(raw.per_second, 1)})  # fmt: skip
    apprise: Result = await apprise_run(
        bench.http, receiver_port, bench.receiver, args.apprise_count, 32
    )
    add({"figure": "baseline Apprise", "deliveries": args.apprise_count,
         "per_second": round(apprise.per_second, 1)})  # fmt: skip
    siaran_rate = figure["per_second"]
    add({"figure": "ratios", "siaran_vs_raw": round(siaran_rate / raw.per_second, 3),
         "goal_vs_raw": GOALS["raw_ratio"],
         "siaran_vs_apprise": round(siaran_rate / apprise.per_second, 2),
         "goal_vs_apprise": GOALS["apprise_ratio"]})  # fmt: skip
    add(await light_load(bench, run_id, args.light_seconds))
    if args.ingest_seconds:
        add(await ingest_vs_produce_only(bench, pids, args.ingest_seconds, printer))
    if args.replicas:
        add(await replicas(bench, run_id, args.fanouts, printer))
    add(await slow_network(bench, args.fanouts) | {"peak_rss_mb": peak_rss(stack)})
    add({"figure": "peak RSS MB", **peak_rss(stack), "goal_mb": GOALS["rss_mb"]})
    if args.scale:
        add(await scale(bench, home, pids, reference, args.scale))
        add({"figure": "peak RSS MB (scale)", **peak_rss(stack),
             "goal_mb": GOALS["scale_rss_mb"]})  # fmt: skip


def peak_rss(stack: Stack) -> dict[str, float]:
    """Each service's peak resident memory so far (VmHWM), MB."""
    return {
        name: round(proc_status(child.proc.pid).get("VmHWM", 0) / 1024, 1)
        for name, child in stack.services.items()
        if child.proc is not None
    }


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
    parser.add_argument(
        "--ingest-seconds", type=float, default=8, metavar="S",
        help="each server's run of the ingest phase (0 skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--scale", type=int, default=100_000, metavar="N",
        help="channels of the scale phase (0 skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--replicas", action=argparse.BooleanOptionalAction, default=True,
        help="the phase with two routers and two publishers",
    )  # fmt: skip
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="py-spy each service during the sustained phase (raw stacks)",
    )
    report(uvloop.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
