"""Publisher throughput: deliveries/s and latency through a publisher process to a local
receiver, against raw aiohttp posting and Apprise sending the same count, in the same run.

    uv run python bench/publisher.py [--count 3312] [--runs 2] [--limit 1500] [--no-apprise]

Starts the bundled broker, a publisher process (default settings, log level INFO, JSON logs)
and a receiver process (aiohttp; records when each Idempotency-Key first arrived). Produces
`--count` DeliveryPlanned tasks (552 regions x 6 kinds by default) straight to
siaran.deliveries.v1 and measures, per scenario:

- fast: every task produced at once, a receiver answering 200 at once;
- limited: the same, to a receiver that answers 429 + Retry-After: 1 beyond `--limit`
  requests/s (all paths together);
- paced: `--paced-rate` tasks/s for `--paced-seconds` (light-load latency);
- slow: every task at once to a receiver answering after a seeded log-normal delay (median
  150 ms, p99 1.5 s): what the sends in flight decide, not the CPU;

and, as baselines, raw aiohttp posting the same bodies (`--raw-in-flight` in flight, honouring
Retry-After at the limited receiver) and Apprise `json://` sending the same count directly
(`--apprise-in-flight` concurrent `async_notify` calls). Latency is task produced → first
receipt at the receiver (both clocks are CLOCK_MONOTONIC on one machine). Also the publisher's
peak RSS (VmHWM) and CPU seconds. Prints a table, then one JSON line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from aiohttp import web

KINDS = ("web", "x", "facebook", "instagram", "telegram", "whatsapp")
TEXT = "Pemerintah mengajak seluruh masyarakat menjaga kesehatan dan kebersihan lingkungan. " * 3


# --------------------------------------------------------------------------- the receiver

#: The slow-network receiver (`/slow/` paths): each request is answered after a delay drawn
#: from a log-normal distribution, median 150 ms and p99 1.5 s (sigma = ln 10 / z(0.99)),
#: seeded by the request's key so every run draws the same delays; capped at 2 s, what the
#: slowest distant servers take.
SLOW_MEDIAN_SECONDS = 0.15
SLOW_SIGMA = math.log(1.5 / SLOW_MEDIAN_SECONDS) / 2.3263
SLOW_CAP_SECONDS = 2.0


def slow_delay(key: str) -> float:
    """The seeded answer delay of one request at the slow-network receiver."""
    drawn = random.Random(key).lognormvariate(math.log(SLOW_MEDIAN_SECONDS), SLOW_SIGMA)
    return min(drawn, SLOW_CAP_SECONDS)


class ReceiverApp:
    """Records the first arrival (monotonic) of every key; /limited/ paths are rate limited,
    /slow/ paths answer after a seeded log-normal delay (a distant server)."""

    def __init__(self, limit: float) -> None:
        self.first: dict[str, float] = {}
        #: run → first arrivals per key prefix (the announcement id of a Siaran key), kept as
        #: they come so that polling the progress costs the receiver next to nothing
        self.groups: dict[str, dict[str, int]] = {}
        #: run → requests whose key had arrived before (a delivery posted twice)
        self.doubled: dict[str, int] = {}
        self.hits = 0
        self.refused = 0
        self.limit = limit
        self._window = 0
        self._window_count = 0

    async def post(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        await request.read()
        self.hits += 1
        if request.path.startswith("/limited/"):
            window = int(now * 10)  # the limit is enforced per 100 ms window
            if window != self._window:
                self._window, self._window_count = window, 0
            self._window_count += 1
            if self._window_count > self.limit / 10:
                self.refused += 1
                return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        key = request.headers.get("Idempotency-Key") or request.path
        if request.path.startswith("/slow/"):  # answered (and counted) after the delay
            await asyncio.sleep(slow_delay(key))
            now = time.monotonic()
        run = request.path.split("/")[2]
        if self.first.setdefault(f"{run}|{key}", now) == now:
            groups = self.groups.setdefault(run, {})
            group = key.split(":", 1)[0]
            groups[group] = groups.get(group, 0) + 1
        else:
            self.doubled[run] = self.doubled.get(run, 0) + 1
        return web.Response(text="ok")

    async def stats(self, request: web.Request) -> web.Response:
        """Progress of a run: its count (cheap); `groups=1` adds arrivals per key prefix,
        `times=1` the first arrival of every key (large: read it once, at the end)."""
        run = request.query["run"]
        groups = self.groups.get(run, {})
        body: dict[str, Any] = {
            "count": sum(groups.values()), "hits": self.hits, "refused": self.refused,
            "doubled": self.doubled.get(run, 0),
        }  # fmt: skip
        if request.query.get("groups") == "1":
            body["groups"] = groups
        if request.query.get("times") == "1":
            prefix = f"{run}|"
            body["times"] = {
                k[len(prefix) :]: t for k, t in self.first.items() if k.startswith(prefix)
            }
        return web.json_response(body)


def serve_receiver(port: int, limit: float) -> None:
    state = ReceiverApp(limit)
    app = web.Application(client_max_size=1 << 20)
    app.router.add_get("/stats", state.stats)
    app.router.add_post("/{tail:.*}", state.post)
    # uvloop, as the services run (uvicorn picks it): the baselines get the same event loop
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None,
                loop=uvloop.new_event_loop())  # fmt: skip


# --------------------------------------------------------------------------- helpers


@dataclass
class Result:
    scenario: str
    system: str
    count: int
    received: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.received / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "system": self.system,
            "count": self.count,
            "received": self.received,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": _round(self.pct(0.50)),
            "p99_ms": _round(self.pct(0.99)),
            "max_ms": _round(self.pct(1.0)),
            **self.extra,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def channels(count: int) -> list[tuple[str, str]]:
    """(channel id, kind): 552 regions x 6 kinds, as many as asked."""
    out: list[tuple[str, str]] = []
    region = 0
    while len(out) < count:
        region += 1
        for kind in KINDS:
            out.append((f"r{region:04d}-{kind}", kind))
    return out[:count]


def make_task(run: str, channel: str, kind: str, endpoint: str) -> Any:
    """One delivery task of a run, as the router would plan it."""
    from siaran_shared.events import DeliveryPlanned, utcnow

    return DeliveryPlanned(
        delivery_id=f"{run}:{channel}",
        announcement_id=run,
        channel_id=channel,
        region="73.03",
        province="73",
        kind=kind,
        endpoint=endpoint,
        title="Hari Kesehatan Nasional",
        text=TEXT,
        link="https://example.go.id/berita/1",
        hashtags=("Sehat",),
        accepted_at=utcnow(),
    )


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS in kB and CPU seconds (x100) of a process, from /proc."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                out[name] = int(value.split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out["cpu_ticks"] = int(fields[11]) + int(fields[12])  # utime + stime
    return out


async def wait_received(http: aiohttp.ClientSession, receiver: str, run: str, count: int,
                        within: float) -> dict[str, float]:  # fmt: skip
    """Poll the receiver until `count` keys of this run arrived (or time runs out)."""
    deadline = time.monotonic() + within
    while True:
        async with http.get(f"{receiver}/stats", params={"run": run}) as r:
            seen = (await r.json())["count"]
        if seen >= count or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    async with http.get(f"{receiver}/stats", params={"run": run, "times": "1"}) as r:
        times: dict[str, float] = (await r.json())["times"]
    return times


# --------------------------------------------------------------------------- Siaran


class Siaran:
    """The broker and a publisher process; produces tasks and times their arrival."""

    def __init__(self, home: Path, receiver_port: int, env: dict[str, str]) -> None:
        from siaran_cli.stack import Stack, StackConfig

        self.receiver_port = receiver_port
        self.config = StackConfig.on_free_ports(home, ("publisher",), env)
        self.log = (home / "stack.log").open("a", encoding="utf-8")
        self.stack = Stack(self.config, self._print)
        self.producer: Any = None

    def _print(self, name: str, line: str) -> None:
        self.log.write(f"{name:>9} | {line}\n")

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        await self.stack.start_broker()
        await self.stack.start_services(("publisher",))
        await self.stack.wait_ready(90)
        self.producer = AIOKafkaProducer(bootstrap_servers=self.config.bootstrap, linger_ms=2)
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
        await self.stack.stop()
        self.log.close()

    @property
    def pid(self) -> int:
        proc = self.stack.services["publisher"].proc
        assert proc is not None
        return proc.pid

    def tasks(self, run: str, path: str, count: int) -> list[Any]:
        endpoint = f"http://127.0.0.1:{self.receiver_port}/{path}/{run}"
        return [make_task(run, c, k, f"{endpoint}/{c}") for c, k in channels(count)]

    def _encoded(self, tasks: Sequence[Any]) -> list[tuple[str, bytes, bytes, list[Any]]]:
        from siaran_shared.messaging import ce_headers

        return [
            (t.delivery_id, t.channel_id.encode(), t.model_dump_json().encode(),
             [(k, v.encode()) for k, v in ce_headers(t, source="bench").items()])
            for t in tasks
        ]  # fmt: skip

    async def burst(self, tasks: Sequence[Any]) -> dict[str, float]:
        """Produce all at once; when each task was produced (queued to the producer)."""
        from siaran_shared.events.topics import DELIVERIES

        sent: dict[str, float] = {}
        futures = []
        for key, channel, value, headers in self._encoded(tasks):
            sent[key] = time.monotonic()
            futures.append(await self.producer.send(DELIVERIES, value, key=channel,
                                                    headers=headers))  # fmt: skip
        await asyncio.gather(*futures)
        return sent

    async def paced(self, tasks: Sequence[Any], rate: float) -> dict[str, float]:
        from siaran_shared.events.topics import DELIVERIES

        sent: dict[str, float] = {}
        start = time.monotonic()
        futures = []
        for i, (key, channel, value, headers) in enumerate(self._encoded(tasks)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[key] = time.monotonic()
            futures.append(await self.producer.send(DELIVERIES, value, key=channel,
                                                    headers=headers))  # fmt: skip
        await asyncio.gather(*futures)
        return sent


async def siaran_run(siaran: Siaran, http: aiohttp.ClientSession, receiver: str, scenario: str,
                     path: str, count: int, *, rate: float | None = None,
                     within: float = 120) -> Result:  # fmt: skip
    run = f"{scenario}-{uuid.uuid4().hex[:8]}"
    tasks = siaran.tasks(run, path, count)
    before = proc_status(siaran.pid)
    start = time.monotonic()
    sent = await (siaran.paced(tasks, rate) if rate else siaran.burst(tasks))
    times = await wait_received(http, receiver, run, count, within)
    after = proc_status(siaran.pid)
    keys = [k for k in sent if k in times]
    last = max(times.values(), default=start)
    cpu = (after.get("cpu_ticks", 0) - before.get("cpu_ticks", 0)) / os.sysconf("SC_CLK_TCK")
    return Result(
        scenario, "siaran", count, len(keys), last - start,
        [times[k] - sent[k] for k in keys],
        {"publisher_cpu_s": round(cpu, 2), "publisher_rss_mb": round(after["VmRSS"] / 1024, 1),
         "publisher_peak_rss_mb": round(after["VmHWM"] / 1024, 1)},
    )  # fmt: skip


# --------------------------------------------------------------------------- baselines


async def raw_run(http: aiohttp.ClientSession, receiver: str, scenario: str, path: str,
                  count: int, in_flight: int) -> Result:  # fmt: skip
    """aiohttp posting the same CloudEvent bodies, `in_flight` at once, honouring Retry-After."""
    from siaran_publisher.webhook import CONTENT_TYPE, cloudevent_body

    run = f"raw-{scenario}-{uuid.uuid4().hex[:8]}"
    tasks = [make_task(run, c, k, f"{receiver}/{path}/{run}/{c}") for c, k in channels(count)]
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for t in tasks:
        queue.put_nowait(t)
    sent: dict[str, float] = {}
    retries = 0
    connector = aiohttp.TCPConnector(limit=in_flight)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal retries
        while not queue.empty():
            t = queue.get_nowait()
            sent.setdefault(t.delivery_id, time.monotonic())
            body = cloudevent_body(t)
            url = t.endpoint
            while True:
                headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": t.delivery_id}
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 429:
                        break
                    retries += 1
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))

    start = time.monotonic()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(in_flight)))
    times = await wait_received(http, receiver, run, count, 30)
    keys = [k for k in sent if k in times]
    last = max(times.values(), default=start)
    return Result(scenario, f"raw aiohttp ({in_flight} in flight)", count, len(keys),
                  last - start, [times[k] - sent[k] for k in keys],
                  {"retries": retries})  # fmt: skip


async def apprise_run(http: aiohttp.ClientSession, receiver_port: int, receiver: str,
                      count: int, in_flight: int) -> Result:  # fmt: skip
    """Apprise `json://` notifications, one per channel, `in_flight` at once."""
    import apprise

    run = f"apprise-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(in_flight)
    sent: dict[str, float] = {}
    failed = 0

    async def one(channel: str) -> None:
        nonlocal failed
        path = f"/fast/{run}/{channel}"
        async with gate:
            notifier = apprise.Apprise()
            notifier.add(f"json://127.0.0.1:{receiver_port}{path}")
            sent[path] = time.monotonic()
            if not await notifier.async_notify(body=TEXT, title="Hari Kesehatan Nasional"):
                failed += 1

    start = time.monotonic()
    await asyncio.gather(*(one(c) for c, _ in channels(count)))
    times = await wait_received(http, receiver, run, count, 30)
    keys = [k for k in sent if k in times]
    last = max(times.values(), default=start)
    return Result("fast", f"Apprise json:// ({in_flight} at once)", count, len(keys),
                  last - start, [times[k] - sent[k] for k in keys],
                  {"failed": failed})  # fmt: skip


# --------------------------------------------------------------------------- main


async def start_receiver(port: int, limit: float) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--receiver", str(port), "--limit", str(limit),
        start_new_session=True,
    )  # fmt: skip
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/stats", params={"run": "x"}):
                    return proc
            await asyncio.sleep(0.05)
    raise RuntimeError("the receiver did not start")


@contextlib.asynccontextmanager
async def profiled(pid: int, output: str | None) -> AsyncIterator[None]:
    """py-spy samples the publisher meanwhile (collapsed stacks to `output`), if asked."""
    if not output:
        yield
        return
    spy_bin = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    spy = await asyncio.create_subprocess_exec(
        spy_bin, "record", "-p", str(pid), "-f", "raw",
        "-o", output, "-r", "200", "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1)
    try:
        yield
    finally:
        spy.send_signal(2)
        await spy.wait()


def median_result(results: Sequence[Result]) -> Result:
    """The run with the median rate (the table shows one; JSON lines show all)."""
    ordered = sorted(results, key=lambda r: r.per_second)
    return ordered[(len(ordered) - 1) // 2]


async def main(args: argparse.Namespace) -> None:
    from siaran_cli.stack import free_port
    from siaran_shared.logging import configure_logging
    from siaran_shared.settings import Settings

    configure_logging(Settings(log_level="WARNING", log_format="json"))
    home = Path(tempfile.mkdtemp(prefix="siaran-bench-publisher-"))
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    receiver_proc = await start_receiver(port, args.limit)
    siaran = Siaran(home, port, dict(item.split("=", 1) for item in args.env))
    results: list[Result] = []
    emit: Callable[[Result], None] = lambda r: results.append(r)  # noqa: E731
    try:
        await siaran.start()
        async with aiohttp.ClientSession() as http:
            # warm-up: group join, connections, first claims
            await siaran_run(siaran, http, receiver, "warmup", "fast", 200)
            if "fast" in args.only:
                for i in range(args.runs):
                    profile = args.profile if i == 0 and not args.profile_limited else None
                    async with profiled(siaran.pid, profile):
                        emit(await siaran_run(siaran, http, receiver, "fast", "fast", args.count))
                    emit(await raw_run(http, receiver, "fast", "fast", args.count,
                                       args.raw_in_flight))  # fmt: skip
            if "slow" in args.only:  # answers after a seeded log-normal delay (distant hosts)
                emit(await siaran_run(siaran, http, receiver, "slow", "slow", args.count))
            if "limited" in args.only:
                async with profiled(siaran.pid, args.profile if args.profile_limited else None):
                    emit(await siaran_run(siaran, http, receiver, "limited", "limited",
                                          args.count))  # fmt: skip
                emit(await raw_run(http, receiver, "limited", "limited", args.count,
                                   args.raw_in_flight))  # fmt: skip
            if "paced" in args.only:
                paced = int(args.paced_rate * args.paced_seconds)
                emit(await siaran_run(siaran, http, receiver, "paced", "fast", paced,
                                      rate=args.paced_rate))  # fmt: skip
            if not args.no_apprise and "fast" in args.only:
                emit(await apprise_run(http, port, receiver, args.count, args.apprise_in_flight))
            peak = proc_status(siaran.pid)
    finally:
        await siaran.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(receiver_proc.pid, 15)
        await receiver_proc.wait()
    report(results, peak, args, home)


def report(results: list[Result], peak: dict[str, int], args: argparse.Namespace,
           home: Path) -> None:  # fmt: skip
    def pick(scenario: str, system: str) -> Result | None:
        found = [r for r in results if r.scenario == scenario and r.system.startswith(system)]
        return median_result(found) if found else None

    header = (f"{'scenario':<9} {'system':<30} {'recv':>6}/{'count':<6} {'s':>7} {'/s':>8}"
              f" {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  extra")  # fmt: skip
    print(header)
    print("-" * len(header))
    for r in results:
        row = r.row()
        extra = {k: v for k, v in row.items() if k not in Result("", "", 0, 0, 0).row()}
        print(f"{r.scenario:<9} {r.system:<30} {r.received:>6}/{r.count:<6} {r.seconds:>7.3f}"
              f" {r.per_second:>8.1f} {_fmt(row['p50_ms'])} {_fmt(row['p99_ms'])}"
              f" {_fmt(row['max_ms'])}  {extra or ''}")  # fmt: skip
    fast, raw = pick("fast", "siaran"), pick("fast", "raw")
    limited, raw_limited = pick("limited", "siaran"), pick("limited", "raw")
    apprise_ = pick("fast", "Apprise")
    ratios: dict[str, Any] = {}
    if fast and raw:
        ratios["siaran_vs_raw_aiohttp"] = round(fast.per_second / raw.per_second, 3)
    if limited and raw_limited:
        ratios["limited_siaran_vs_raw_aiohttp"] = round(
            limited.per_second / raw_limited.per_second, 3
        )
    if fast and apprise_:
        ratios["siaran_vs_apprise"] = round(fast.per_second / apprise_.per_second, 2)
    peak_mb = round(peak.get("VmHWM", 0) / 1024, 1)
    print()
    print(f"Siaran / raw aiohttp (fast, median of {args.runs}): "
          f"{ratios.get('siaran_vs_raw_aiohttp')}  (goal >= 0.5)")  # fmt: skip
    print(f"Siaran / raw aiohttp (rate-limited receiver, {args.limit:.0f}/s): "
          f"{ratios.get('limited_siaran_vs_raw_aiohttp')}")  # fmt: skip
    print(f"Siaran / Apprise: {ratios.get('siaran_vs_apprise')}  (goal >= 4)")
    print(f"publisher peak RSS (VmHWM): {peak_mb} MB  (goal <= 150)")
    print(f"stack log: {home / 'stack.log'}")
    print()
    for r in results:
        print(json.dumps({"bench": "publisher", **r.row()}))
    print(json.dumps({"bench": "publisher", "ratios": ratios, "publisher_peak_rss_mb": peak_mb}))


def _fmt(value: float | None) -> str:
    return f"{value:>8.1f}" if value is not None else f"{'-':>8}"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--count", type=int, default=3312, help="deliveries per run")
    p.add_argument("--runs", type=int, default=2, help="fast runs (the median is compared)")
    p.add_argument("--limit", type=float, default=1500, help="rate-limited receiver's req/s")
    p.add_argument("--raw-in-flight", type=int, default=64)
    p.add_argument("--apprise-in-flight", type=int, default=32)
    p.add_argument("--paced-rate", type=float, default=100.0)
    p.add_argument("--paced-seconds", type=float, default=5.0)
    p.add_argument("--no-apprise", action="store_true")
    p.add_argument(
        "--only", default="fast,slow,limited,paced",
        help="scenarios to run, comma-separated (slow: a receiver answering after a seeded"
        " log-normal delay, median 150 ms, p99 1.5 s)",
    )  # fmt: skip
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="publisher setting, e.g. SIARAN_PUBLISHER_MAX_IN_FLIGHT=128",
    )
    p.add_argument("--profile", help="py-spy the publisher in the first fast run (raw stacks)")
    p.add_argument("--profile-limited", action="store_true",
                   help="with --profile: record the rate-limited run instead")  # fmt: skip
    p.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.only = set(args.only.split(","))
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.receiver:
        serve_receiver(arguments.receiver, arguments.limit)
    else:
        uvloop.run(main(arguments))
