"""Ingest throughput and latency: valid, authenticated posts (auth, validation, idempotent
archive, publish to Kafka) against a minimal FastAPI endpoint that only produces to Kafka.

Both servers run as their own single process (uvicorn) against the bundled broker, one after
the other, driven by an aiohttp client from this process:
  1. max throughput: `--concurrency` requests in flight for `--seconds`;
  2. fixed rate: `--rate` requests/s, open loop (latency counted from the scheduled send time,
     so a stalled server cannot hide its queueing).

    uv run python -m bench.ingest [--seconds 10] [--rate 500] [--concurrency 64] [--profile F]

Prints a table and one JSON line per measurement. Targets (issue 3): >= 2,000 requests/s;
p99 <= 20 ms at 500 requests/s. The figures are machine-dependent: compare the two rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from siaran_cli.stack import Child, Stack, StackConfig, free_port
from siaran_shared.auth import KeyRing
from siaran_shared.events.topics import ANNOUNCEMENTS, TOPICS, TopicSpec
from siaran_shared.messaging.admin import ensure_topics
from siaran_shared.settings import Settings

from bench.driver import cpu_per_delivery, cpu_ticks
from bench.publisher import profiled

BODY = {
    "title": "Kominfo: jadilah humas profesional bermedsos",
    "body": "Sebagai humas pemerintah yang profesional, aktiflah di media sosial. " * 4,
    "summary": "Humas pemerintah diajak aktif dan profesional di media sosial.",
    "link": "https://example.go.id/berita/123",
    "category": "pembangunan",
    "hashtags": ["GPR", "Kominfo"],
    "target": {"provinces": ["73"], "regencies": ["71.71"], "kinds": ["web", "x"]},
}


# --- the baseline server: FastAPI + aiokafka, nothing else -------------------------------------


#: Where the baseline produces: a topic of its own, partitioned like the announcements topic,
#: which no service reads (its bodies on the announcements topic would be dead-lettered by
#: every reader of a running stack, and their dead letters would load the measured stack).
BASELINE_TOPIC = TopicSpec(
    "bench.produce-only",
    next(t.partitions for t in TOPICS if t.name == ANNOUNCEMENTS),
)


def serve_baseline(port: int, bootstrap: str) -> None:
    """A FastAPI endpoint that reads the body and produces it to Kafka, awaiting the ack."""
    state: dict[str, Any] = {}

    async def lifespan(_: FastAPI) -> Any:
        await ensure_topics(Settings(kafka_bootstrap=bootstrap), [BASELINE_TOPIC])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
        await producer.start()
        state["producer"] = producer
        yield
        await producer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/announcements", status_code=202)
    async def post(request: Request) -> JSONResponse:
        raw = await request.body()
        await state["producer"].send_and_wait(BASELINE_TOPIC.name, raw)
        return JSONResponse({"status": "accepted"}, status_code=202)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- load ---------------------------------------------------------------------------------------


def payload(run: str, i: int, body: dict[str, Any] | None = None) -> bytes:
    return json.dumps((body or BODY) | {"id": f"bench-{run}-{i}"}).encode()


async def closed_loop(
    url: str, token: str, seconds: float, concurrency: int, body: dict[str, Any] | None = None
) -> tuple[list[float], int, float]:
    run, latencies, errors, counter = uuid.uuid4().hex[:8], [], 0, 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                counter += 1
                start = time.perf_counter()
                async with session.post(url, data=payload(run, counter, body)) as r:
                    await r.read()
                    if r.status != 202:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


async def open_loop(
    url: str, token: str, seconds: float, rate: float
) -> tuple[list[float], int, float]:
    run, latencies, errors = uuid.uuid4().hex[:8], [], 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    total = int(seconds * rate)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=60),
    ) as session:

        async def one(i: int, scheduled: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=payload(run, i)) as r:
                    await r.read()
                    if r.status != 202:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1  # a server far behind the schedule: counted, not fatal
            latencies.append(time.perf_counter() - scheduled)

        tasks = []
        start = time.perf_counter()
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def summary(name: str, mode: str, result: tuple[list[float], int, float]) -> dict[str, Any]:
    latencies, errors, elapsed = result
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    return {
        "bench": "ingest",
        "server": name,
        "mode": mode,
        "requests": len(ms),
        "errors": errors,
        "rps": round(len(ms) / elapsed, 1),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(ms[-1], 2),
    }


async def measure(
    name: str, url: str, token: str, args: argparse.Namespace, pids: dict[str, int]
) -> list[dict[str, Any]]:
    """Max throughput (the server's and the broker's CPU per request, py-spy on ingest if
    asked), then the fixed rate."""
    await closed_loop(url, token, 2, 16)  # warm-up: connections, topic metadata, JIT caches
    before = cpu_ticks(pids)
    async with profiled(pids["server"], args.profile if name == "ingest" else None):
        result = await closed_loop(url, token, args.seconds, args.concurrency)
    cpu = cpu_per_delivery(pids, before, len(result[0]))
    rows = [summary(name, f"max c={args.concurrency}", result) | {"cpu_ms_per_request": cpu}]
    await asyncio.sleep(1)
    rows.append(summary(name, f"fixed {args.rate:g}/s",
                        await open_loop(url, token, args.seconds, args.rate)))  # fmt: skip
    return rows


def pid_of(child: Child | None) -> int:
    if child is None or child.proc is None:
        raise RuntimeError("a process of the bench did not start")
    return child.proc.pid


async def wait_ready(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {within}s")


async def main(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="siaran-bench-ingest-"))
    log = (home / "stack.log").open("a", encoding="utf-8")

    def printer(name: str, line: str) -> None:
        log.write(f"{name:>9} | {line}\n")

    config = StackConfig.on_free_ports(
        home, extra_env={"SIARAN_INGEST_RATE_PER_SECOND": "0", "SIARAN_LOG_LEVEL": "WARNING"}
    )
    _, token = KeyRing(Settings(home=home).resolved_api_keys_file).create("bench", "national")
    stack = Stack(config, printer)
    rows: list[dict[str, Any]] = []
    baseline_port = free_port()
    baseline = Child(
        "baseline",
        [
            sys.executable,
            "-m",
            "bench.ingest",
            "--serve-baseline",
            str(baseline_port),
            config.bootstrap,
        ],
        {**os.environ, "PYTHONUNBUFFERED": "1"},
        printer,
    )
    try:
        await stack.start_broker()
        await stack.start_services(("ingest",))
        await stack.wait_ready(90, ("ingest",))
        await baseline.start()
        await wait_ready(f"http://127.0.0.1:{baseline_port}")
        rows += await measure(
            "baseline", f"http://127.0.0.1:{baseline_port}/v1/announcements", token, args,
            {"server": pid_of(baseline), "broker": pid_of(stack.broker)},
        )  # fmt: skip
        rows += await measure(
            "ingest", config.url("ingest") + "/v1/announcements", token, args,
            {"server": pid_of(stack.services["ingest"]), "broker": pid_of(stack.broker)},
        )  # fmt: skip
    finally:
        await baseline.stop()
        await stack.stop()
        log.close()

    print(f"\ningest vs baseline, {args.seconds:g} s per run, {os.cpu_count()} CPUs, log {home}")
    print(f"{'server':<9} {'mode':<14} {'requests':>9} {'errors':>7} {'req/s':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")  # fmt: skip
    for r in rows:
        print(f"{r['server']:<9} {r['mode']:<14} {r['requests']:>9} {r['errors']:>7} "
              f"{r['rps']:>9} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8}")  # fmt: skip
    ingest_max = next(r for r in rows if r["server"] == "ingest" and r["mode"].startswith("max"))
    ingest_fixed = next(r for r in rows if r["server"] == "ingest" and r["mode"].startswith("fix"))
    base_max = next(r for r in rows if r["server"] == "baseline" and r["mode"].startswith("max"))
    print(f"\ningest/baseline throughput: {ingest_max['rps'] / base_max['rps']:.2f}")
    print(f"target >= 2000 req/s: {'met' if ingest_max['rps'] >= 2000 else 'NOT met'}; "
          f"target p99 <= 20 ms at {args.rate:g}/s: "
          f"{'met' if ingest_fixed['p99_ms'] <= 20 else 'NOT met'}")  # fmt: skip
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-baseline":
        serve_baseline(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy's raw stacks of ingest at max throughput"
    )
    asyncio.run(main(parser.parse_args()))
