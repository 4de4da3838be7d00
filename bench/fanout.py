"""Router fan-out: plan + produce a national announcement to the demo registry (552 regions
+ ID, 6 channels each) on the bundled broker, against a raw aiokafka send of the same
messages; and where an urgent announcement accepted mid fan-out lands in the output.

    uv run python bench/fanout.py

Prints a table and one JSON line per figure. Timings are medians of a few runs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from siaran_cli.demo import demo_channels
from siaran_cli.stack import Stack, StackConfig, free_port
from siaran_router.bulk import parse_rows
from siaran_router.fanout import Fanout
from siaran_router.outbox import Batches
from siaran_router.plans import Plans
from siaran_router.registry import Registry
from siaran_router.release import Releaser
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
    Priority,
    Target,
)
from siaran_shared.events.topics import DELIVERIES, PLANS, RESULTS
from siaran_shared.logging import configure_logging
from siaran_shared.messaging import (
    Outgoing,
    aiokafka_producer,
    ce_headers,
    ensure_topics,
    make_broker,
    publish_all,
)
from siaran_shared.messaging.producer import _publish_each
from siaran_shared.settings import Settings
from siaran_shared.store import open_store
from siaran_shared.telemetry import setup_telemetry

RUNS = 5
BODY = "Pemerintah mengajak seluruh masyarakat menjaga kesehatan. " * 8


def accepted(announcement_id: str, priority: Priority = Priority.NORMAL, **target: Any) -> Any:
    a = Announcement(
        id=announcement_id,
        title="Hari Kesehatan Nasional",
        body=BODY,
        link="https://example.go.id/berita/1",
        hashtags=("Sehat",),
        priority=priority,
        target=Target(**(target or {"national": True})),
    )
    return AnnouncementAccepted(announcement=a, submitted_by="bench")


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="siaran-bench-"))
    config = StackConfig(home=home, kafka_port=free_port())
    stack = Stack(config, lambda *_: None)
    await stack.start_broker()
    settings = Settings(home=home, kafka_bootstrap=config.bootstrap, log_level="WARNING",
                        log_format="json").for_service("router")  # fmt: skip
    configure_logging(settings)
    setup_telemetry("router")  # the SDK tracer provider the service runs with (no exporter)
    try:
        await ensure_topics(settings)
        await run(settings, home)
    finally:
        await stack.stop()


async def run(settings: Settings, home: Path) -> None:
    channels, errors = parse_rows(demo_channels())
    assert not errors, errors
    registry = Registry(None)  # type: ignore[arg-type]  # the cache alone
    for c in channels:
        registry.apply(c, c.id)
    store = open_store(f"sqlite:///{home / 'router.db'}", "router")
    await store.connect()
    broker = make_broker(settings)
    await broker.connect()
    assert aiokafka_producer(broker) is not None, "publish_all would not take the fast path"
    order: list[DeliveryPlanned] = []
    started = asyncio.Event()
    publish = publish_all

    async def emit(tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]) -> None:
        order.extend(tasks)
        started.set()
        await publish(broker, "siaran/router", [
            *(Outgoing(DELIVERIES, t.channel_id, t) for t in tasks),
            *(Outgoing(PLANS, s.announcement_id, s) for s in DeliveriesPlanned.of(tasks)),
            *(Outgoing(RESULTS, o.announcement_id, o) for o in outcomes)])  # fmt: skip

    def router(chunk: int) -> tuple[Fanout, Releaser]:
        batches = store.collection("release_batches", ("status", "due", "announcement_id"))
        tasks = store.collection("release_tasks")
        releaser = Releaser(Batches(batches, tasks), emit, registry.get, owner="bench", chunk=chunk)
        return Fanout(registry, Plans(store.collection("plans")), releaser, emit), releaser

    fanout, releaser = router(500)
    # warm-up: connections, rendering caches
    await fanout.on_accepted(accepted("warmup"))
    await releaser.release_due()

    # The raw producer's messages: the router's own output, serialised beforehand.
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=2)
    await producer.start()

    async def raw_send(tasks: Sequence[DeliveryPlanned]) -> float:
        messages = [
            (
                t.channel_id.encode(),
                t.model_dump_json().encode(),
                [(k, v.encode()) for k, v in ce_headers(t, source="bench").items()],
            )
            for t in tasks
        ]
        t0 = time.perf_counter()
        futures = [await producer.send(DELIVERIES, v, key=k, headers=h) for k, v, h in messages]
        await asyncio.gather(*futures)
        return time.perf_counter() - t0

    # Interleaved, so that the broker's state (its memory storage grows with every run)
    # weighs on the three alike: the router, the raw producer, FastStream's per-message
    # broker.publish (the path publish_all took before it went straight to aiokafka).
    plan_s: list[float] = []
    release_s: list[float] = []
    total_s: list[float] = []
    raw_s: list[float] = []
    faststream_s: list[float] = []
    try:
        for n in range(RUNS):
            order.clear()
            t0 = time.perf_counter()
            count = await fanout.on_accepted(accepted(f"national-{n}"))
            t1 = time.perf_counter()
            await releaser.release_due()
            t2 = time.perf_counter()
            assert count == len(order) == len(channels)
            plan_s.append(t1 - t0)
            release_s.append(t2 - t1)
            total_s.append(t2 - t0)

            raw_s.append(await raw_send(list(order)))

            publish = _publish_each
            await fanout.on_accepted(accepted(f"national-faststream-{n}"))
            t1 = time.perf_counter()
            await releaser.release_due()
            faststream_s.append(time.perf_counter() - t1)
            publish = publish_all
    finally:
        await producer.stop()

    # urgent accepted while a national fan-out is being released
    positions = {}
    for label, chunk in (("router (chunks of 500, preemption)", 500), ("one batch, FIFO", 10**6)):
        fanout, releaser = router(chunk)
        order.clear()
        started.clear()
        urgent_id = f"urgent-{chunk}"
        await fanout.on_accepted(accepted(f"national-p{chunk}"))
        release = asyncio.create_task(releaser.release_due())
        await started.wait()  # the national fan-out is under way
        await fanout.on_accepted(accepted(urgent_id, Priority.URGENT, regencies=("73.03",)))
        await release
        await releaser.release_due()
        first = next(i for i, t in enumerate(order) if t.announcement_id == urgent_id)
        positions[label] = (first, len(order))
    await broker.stop()
    await store.close()

    med = statistics.median
    n = len(channels)
    rows = [
        ("deliveries per national announcement", f"{n}", ""),
        ("router plan + hold (store)", f"{med(plan_s) * 1000:.0f} ms", ""),
        ("router release: produce until acked", f"{med(release_s) * 1000:.0f} ms",
         f"{n / med(release_s):,.0f} msg/s"),
        ("router plan + hold + produce (acked)", f"{med(total_s) * 1000:.0f} ms",
         f"{n / med(total_s):,.0f} msg/s"),
        ("raw aiokafka send of the same messages", f"{med(raw_s) * 1000:.0f} ms",
         f"{n / med(raw_s):,.0f} msg/s (baseline)"),
        ("router release / raw", f"{med(release_s) / med(raw_s):.1f}x", ""),
        ("router plan + hold + produce / raw", f"{med(total_s) / med(raw_s):.1f}x", ""),
        ("release via FastStream broker.publish", f"{med(faststream_s) * 1000:.0f} ms",
         f"{n / med(faststream_s):,.0f} msg/s (the path before)"),
    ]  # fmt: skip
    for label, (first, total) in positions.items():
        rows.append((f"urgent's first task in output: {label}", f"#{first + 1} of {total}", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'Router fan-out (bundled broker)':<{width}}  {'figure':>12}  note")
    for label, figure, note in rows:
        print(f"{label:<{width}}  {figure:>12}  {note}")
    figures = {
        "deliveries": len(channels),
        "plan_hold_ms": statistics.median(plan_s) * 1000,
        "release_ms": statistics.median(release_s) * 1000,
        "fanout_ms": statistics.median(total_s) * 1000,
        "release_faststream_ms": statistics.median(faststream_s) * 1000,
        "raw_aiokafka_ms": statistics.median(raw_s) * 1000,
        "urgent_position_preemptive": positions["router (chunks of 500, preemption)"][0] + 1,
        "urgent_position_fifo": positions["one batch, FIFO"][0] + 1,
    }
    for name, value in figures.items():
        print(json.dumps({"bench": "fanout", "figure": name, "value": round(value, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
