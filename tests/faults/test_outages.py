"""A receiver down for 30 s, and a store that cannot be written for 10 s: the rest keeps
flowing, and once the fault ends everything is delivered without loss."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Receiver, eventually
from tests.faults.helpers import (
    all_received,
    announce_national,
    counts,
    fault_stack,
    register_national,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def test_receiver_down_30s_others_unaffected_then_all_delivered(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    down = Receiver()
    await down.start()
    port = down.port
    await down.stop()  # nothing listens on its port now: connection refused
    stack = await fault_stack(tmp_path / "outage")
    try:
        healthy = await register_national(stack, receiver, "up")
        async with stack.client("router") as router:
            for i, region in enumerate(("73.03", "31.71", "11.01")):
                r = await router.put(
                    f"/v1/channels/down-{i}",
                    json={"region": region, "kind": "web", "name": f"down {i}",
                          "endpoint": f"http://127.0.0.1:{port}/down/{i}", "tags": ["up"]},
                )  # fmt: skip
                assert r.status_code == 201, r.text
        announcement_id = await announce_national(stack, "up")
        started = time.monotonic()
        others = await all_received(receiver, announcement_id, healthy, within=60)
        others_done = time.monotonic() - started
        assert others_done < 30, "healthy channels waited for the one that is down"
        await asyncio.sleep(max(0.0, 30 - (time.monotonic() - started)))
        back = Receiver(port=port)
        await back.start()
        try:
            restored = await all_received(back, announcement_id, 3, within=60)
        finally:
            await back.stop()
    finally:
        await stack.stop()
    proof(
        "faults: receiver down 30 s",
        healthy_channels=healthy,
        healthy_lost=others.lost,
        down_channels=3,
        lost_after_return=restored.lost,
        doubled=others.doubled + restored.doubled,
    )
    assert others.lost == 0
    assert restored.lost == 0


async def test_store_unwritable_10s_not_ready_then_recovers_without_loss(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    home = tmp_path / "store"
    stack = await fault_stack(home)
    try:
        expected = await register_national(stack, receiver, "store")
        db = sqlite3.connect(home / "publisher.db", timeout=1, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")  # nobody else can write the publisher's store now
        try:
            announcement_id = await announce_national(stack, "store")

            async def not_ready() -> bool:
                async with httpx.AsyncClient(timeout=15) as c:  # readyz answers within ~4 s
                    r = await c.get(stack.url("publisher") + "/readyz")
                    return r.status_code == 503 and "store" in r.json().get("problems", {})

            await eventually(not_ready, within=10, what="publisher reports not ready")
            await asyncio.sleep(10)
            during = counts(receiver, announcement_id, expected).unique
        finally:
            db.execute("ROLLBACK")
            db.close()
        final = await all_received(receiver, announcement_id, expected, within=120)
        await stack.stack.wait_ready(30, ("publisher",))
    finally:
        await stack.stop()
    proof(
        "faults: store unwritable 10 s",
        expected=expected,
        received_during_outage=during,
        lost=final.lost,
        doubled=final.doubled,
    )
    assert final.lost == 0
