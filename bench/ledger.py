"""Metrics ledger: a national announcement (552 regions x 6 kinds = 3,312 deliveries) recorded
in batches of 100 plans, each followed by the batch of their 100 outcomes, on a temporary
SQLite store, as the metrics consumer records them. The ledger keeps each announcement's
totals by adding every batch's transitions; in the same run, as the baseline, the same
ledger with the totals recounted after every batch (7 counts per announcement touched: the
approach before).

    uv run python -m bench.ledger [--batch 100] [--history 10] [--runs 3]

The store first holds `--history` earlier national announcements (3,312 deliveries each), as
a metrics store that has run for a while does: a recount's per-status counts are answered
through the status index, over every delivery of that status in the ledger, so the baseline
grows with the ledger (`--history 0` shows it on an empty one).

Then what metrics spends learning the plan of that announcement (decoding the records from
their bytes, as its consumer does, and recording them in the ledger): from the router's plan
summaries (one per release chunk of 500, siaran.plans.v1) against, as the baseline, from every
task of siaran.deliveries.v1 (the approach before).

Prints a table and one JSON line per figure. Timings are medians of the runs; each run uses
a fresh store. No broker, no services: the figure is the ledger and its store alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from siaran_metrics.ledger import Ledger, Transitions
from siaran_metrics.ledger_store import Announcements, Deliveries
from siaran_metrics.records import AnnouncementRecord, DeliveryRecord, DeliveryState
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Target,
)
from siaran_shared.events.topics import DELIVERIES, PLANS
from siaran_shared.messaging import ce_headers, decode
from siaran_shared.regions import regions
from siaran_shared.store import open_store

KINDS = ("web", "x", "facebook", "instagram", "telegram", "whatsapp")
ANNOUNCEMENT = "national-1"


class RecountingLedger(Ledger):
    """The ledger as it was: after every batch, each announcement touched is recounted from
    its deliveries (one grouped count) and the totals replaced."""

    async def _write(self, transitions: Transitions) -> None:
        if transitions.records:
            await self.deliveries.write(transitions.records.values())
            await self.refresh_totals(r.announcement_id for r in transitions.records.values())

    async def refresh_totals(self, announcement_ids: Iterable[str]) -> None:
        ids = sorted(set(announcement_ids))
        known = await self.announcements.get_many(ids)
        for announcement_id in ids:
            if announcement_id in known:
                totals = await self.deliveries.count(announcement_id)
                await self.announcements.settle(announcement_id, totals)


def national() -> tuple[AnnouncementAccepted, list[DeliveryPlanned], list[DeliveryCompleted]]:
    known = regions()
    accepted = AnnouncementAccepted(
        announcement=Announcement(
            id=ANNOUNCEMENT, title="Uji nasional", body="Untuk semua daerah.",
            target=Target(national=True),
        ),
        submitted_by="bench",
    )  # fmt: skip
    tasks = [
        DeliveryPlanned(
            delivery_id=f"{ANNOUNCEMENT}:{code}-{kind}",
            announcement_id=ANNOUNCEMENT,
            channel_id=f"{code}-{kind}",
            region=code,
            province=known.province_of(code),
            kind=kind,
            endpoint=f"https://example.go.id/{code}/{kind}",
            title="Uji nasional",
            text="Untuk semua daerah.",
            accepted_at=accepted.accepted_at,
        )
        for code in known.by_code
        for kind in KINDS
    ]
    outcomes = [
        DeliveryCompleted.of(
            t, DeliveryStatus.FAILED if n % 50 == 0 else DeliveryStatus.DELIVERED,
            attempts=1, response="200 OK",
        )
        for n, t in enumerate(tasks)
    ]  # fmt: skip
    return accepted, tasks, outcomes


async def preload(ledger: Ledger, tasks: list[DeliveryPlanned], history: int) -> None:
    """Earlier national announcements, all delivered, already in the ledger (and a few
    pending deliveries each), as in a metrics store that has been running for a while."""
    for h in range(history):
        announcement_id = f"earlier-{h}"
        await ledger.deliveries.write(
            DeliveryRecord(
                delivery_id=f"{announcement_id}:{t.channel_id}",
                announcement_id=announcement_id,
                channel_id=t.channel_id,
                region=t.region,
                province=t.province,
                kind=t.kind,
                planned=True,
                status=DeliveryState.PENDING if n % 100 == 0 else DeliveryState.DELIVERED,
            )
            for n, t in enumerate(tasks)
        )
        await ledger.announcements.create([AnnouncementRecord(id=announcement_id)])


async def run_once(
    kind: type[Ledger],
    accepted: AnnouncementAccepted,
    tasks: list[DeliveryPlanned],
    outcomes: list[DeliveryCompleted],
    batch: int,
    history: int,
) -> tuple[float, float, dict[str, int]]:
    """Seconds (wall, and CPU of the process: the event loop and SQLite's thread) to record
    everything, and the announcement's totals at the end."""
    with tempfile.TemporaryDirectory(prefix="siaran-bench-ledger-") as home:
        store = open_store(f"sqlite:///{Path(home) / 'metrics.db'}", "metrics")
        await store.connect()
        try:
            ledger = kind(  # the collections and indexes the metrics service declares
                Deliveries(store.collection("deliveries", indexes=("announcement_id", "status"))),
                Announcements(store.collection("announcements", indexes=("accepted_at",))),
            )
            await preload(ledger, tasks, history)
            t0, cpu0 = time.perf_counter(), time.process_time()
            await ledger.record_announcements([accepted])
            for start in range(0, len(tasks), batch):
                await ledger.record_planned(tasks[start : start + batch])
                await ledger.record_outcomes(outcomes[start : start + batch])
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            record = await ledger.announcements.get(ANNOUNCEMENT)
            totals = record.totals if record is not None else None
            return seconds, cpu, totals.model_dump() if totals is not None else {}
        finally:
            await store.close()


#: Tasks the router releases in one chunk (siaran_router.release.Releaser's chunk).
RELEASE_CHUNK = 500


def as_records(topic: str, events: Iterable[DeliveryPlanned | DeliveriesPlanned]) -> list[Any]:
    """The events as the consumer receives them: key, JSON bytes and CloudEvents headers."""
    return [
        SimpleNamespace(
            topic=topic, key=b"k", value=e.model_dump_json().encode(), timestamp=0,
            headers=[(k, v.encode()) for k, v in ce_headers(e, source="bench").items()],
        )
        for e in events
    ]  # fmt: skip


async def plan_once(tasks: list[DeliveryPlanned], summaries: bool) -> tuple[float, int]:
    """CPU seconds metrics spends learning the plan of `tasks` (decode, then record, per
    release chunk) from plan summaries or from the tasks; and the deliveries it holds then."""
    chunks = [tasks[i : i + RELEASE_CHUNK] for i in range(0, len(tasks), RELEASE_CHUNK)]
    if summaries:
        batches = [as_records(PLANS, DeliveriesPlanned.of(chunk)) for chunk in chunks]
    else:
        batches = [as_records(DELIVERIES, chunk) for chunk in chunks]
    with tempfile.TemporaryDirectory(prefix="siaran-bench-ledger-") as home:
        store = open_store(f"sqlite:///{Path(home) / 'metrics.db'}", "metrics")
        await store.connect()
        try:
            ledger = Ledger(
                Deliveries(store.collection("deliveries", indexes=("announcement_id", "status"))),
                Announcements(store.collection("announcements", indexes=("accepted_at",))),
            )
            cpu0 = time.process_time()
            for raws in batches:
                if summaries:
                    records, _ = decode(raws, DeliveriesPlanned)
                    await ledger.record_plans([r.event for r in records])
                else:
                    records, _ = decode(raws, DeliveryPlanned)
                    await ledger.record_planned([r.event for r in records])
            cpu = time.process_time() - cpu0
            return cpu, await ledger.deliveries.pending()
        finally:
            await store.close()


async def compare_plans(tasks: list[DeliveryPlanned], runs: int) -> dict[str, float]:
    """Metrics' CPU to learn a national plan: summaries against tasks, runs interleaved."""
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(runs):
        for summaries in (True, False):
            used, pending = await plan_once(tasks, summaries)
            assert pending == len(tasks), (summaries, pending)
            cpu[summaries].append(used)
    n = len(tasks)
    summary, per_task = statistics.median(cpu[True]), statistics.median(cpu[False])
    print()
    print(f"Metrics learning the plan of {n:,} deliveries (decode + ledger, SQLite), CPU:")
    print(f"  from plan summaries   {summary:.3f} s  {summary / n * 1000:.3f} ms per delivery")
    print(f"  from every task       {per_task:.3f} s  {per_task / n * 1000:.3f} ms per delivery"
          " (baseline)")  # fmt: skip
    print(f"  tasks / summaries     {per_task / summary:.2f}x")
    return {
        "plan_from_summaries_cpu_ms_per_delivery": summary / n * 1000,
        "plan_from_tasks_cpu_ms_per_delivery": per_task / n * 1000,
        "plan_tasks_vs_summaries": per_task / summary,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=100, help="events per consumer batch")
    parser.add_argument("--history", type=int, default=10, help="earlier announcements held")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    accepted, tasks, outcomes = national()
    n = len(tasks)
    ledgers: dict[str, type[Ledger]] = {"incremental": Ledger, "recounting": RecountingLedger}
    seconds: dict[str, list[float]] = {name: [] for name in ledgers}
    cpu: dict[str, list[float]] = {name: [] for name in ledgers}
    totals: dict[str, dict[str, int]] = {}
    for _ in range(args.runs):  # interleaved, so that a busy moment weighs on both alike
        for name, kind in ledgers.items():
            took, used, totals[name] = await run_once(
                kind, accepted, tasks, outcomes, args.batch, args.history
            )
            seconds[name].append(took)
            cpu[name].append(used)
    assert totals["incremental"] == totals["recounting"], totals
    assert totals["incremental"]["planned"] == n, totals

    med = {name: statistics.median(s) for name, s in seconds.items()}
    med_cpu = {name: statistics.median(s) for name, s in cpu.items()}
    batches = 2 * -(-n // args.batch)
    rows = [
        ("deliveries (plan + outcome each)", f"{n:,}", f"{batches} batches of {args.batch}"),
        ("earlier deliveries in the ledger", f"{n * args.history:,}",
         f"{args.history} national announcements"),
        ("ledger, totals by increments", f"{med['incremental']:.2f} s",
         f"{n / med['incremental']:,.0f} deliveries/s"),
        ("ledger, totals recounted (the approach before)", f"{med['recounting']:.2f} s",
         f"{n / med['recounting']:,.0f} deliveries/s (baseline)"),
        ("CPU: increments / recount", f"{med_cpu['incremental']:.2f} s",
         f"{med_cpu['recounting']:.2f} s"),
        ("per batch: increments / recount",
         f"{med['incremental'] / batches * 1000:.1f} ms",
         f"{med['recounting'] / batches * 1000:.1f} ms"),
        ("recounting / increments", f"{med['recounting'] / med['incremental']:.1f}x", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'Metrics ledger (SQLite, one national announcement)':<{width}}  {'figure':>10}  note")
    for label, figure, note in rows:
        print(f"{label:<{width}}  {figure:>10}  {note}")
    figures = {
        "deliveries": n,
        "batch": args.batch,
        "history_deliveries": n * args.history,
        "incremental_s": med["incremental"],
        "recounting_s": med["recounting"],
        "incremental_cpu_s": med_cpu["incremental"],
        "recounting_cpu_s": med_cpu["recounting"],
        "incremental_deliveries_per_s": n / med["incremental"],
        "recounting_deliveries_per_s": n / med["recounting"],
        "speedup": med["recounting"] / med["incremental"],
    }
    figures |= await compare_plans(tasks, args.runs)
    for name, value in figures.items():
        print(json.dumps({"bench": "ledger", "figure": name, "value": round(value, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
