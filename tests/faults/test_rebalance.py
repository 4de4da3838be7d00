"""A consumer-group rebalance in the middle of a national fan-out: a second publisher
instance joins; nothing is lost and nothing is posted twice."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from siaran_cli.stack import Child, free_port

from tests.e2e.harness import Receiver, eventually
from tests.faults.helpers import (
    all_received,
    announce_national,
    fanout_started,
    fault_stack,
    register_national,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def test_second_publisher_joins_mid_fanout(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    stack = await fault_stack(tmp_path / "rebalance")
    second: Child | None = None
    try:
        expected = await register_national(stack, receiver, "rebal")
        announcement_id = await announce_national(stack, "rebal")
        at_join = (await fanout_started(receiver, announcement_id, expected)).unique
        port = free_port()
        env = {**stack.stack.config.service_env("publisher"), "SIARAN_PORT": str(port)}
        with stack.log.open("a") as log:

            def printer(name: str, line: str) -> None:
                log.write(f"{name:>9} | {line}\n")
                log.flush()

            second = Child("publisher2", [sys.executable, "-m", "siaran_publisher"], env, printer)
            await second.start()

            async def second_ready() -> bool:
                async with httpx.AsyncClient(timeout=15) as c:
                    try:
                        r = await c.get(f"http://127.0.0.1:{port}/readyz")
                    except httpx.HTTPError:
                        return False
                    return r.status_code == 200

            await eventually(second_ready, within=60, what="second publisher ready")
            final = await all_received(receiver, announcement_id, expected, within=150)
            await second.stop()
    finally:
        if second is not None:
            await second.stop()
        await stack.stop()
    proof(
        "faults: rebalance (second publisher mid fan-out)",
        expected=expected,
        received_before_join=at_join,
        lost=final.lost,
        doubled=final.doubled,
    )
    assert at_join < expected, "the second instance joined after the fan-out had finished"
    assert final.lost == 0
    assert final.doubled == 0
