"""Services killed with SIGKILL in the middle of a national fan-out, then restarted:
every delivery arrives, none is lost, and a de-duplicating receiver sees each once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.harness import Receiver
from tests.faults.helpers import (
    all_received,
    announce_national,
    fanout_started,
    fault_stack,
    register_national,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def test_router_and_publisher_killed_mid_fanout(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    stack = await fault_stack(tmp_path / "crash")
    try:
        expected = await register_national(stack, receiver, "crash")
        announcement_id = await announce_national(stack, "crash")
        # kill both as soon as some deliveries went out, well before the fan-out ends
        at_kill = (await fanout_started(receiver, announcement_id, expected)).unique
        for name in ("publisher", "router"):
            await stack.stack.services[name].kill()
        for name in ("router", "publisher"):
            await stack.stack.services[name].start()
        await stack.stack.wait_ready(60, ("router", "publisher"))
        final = await all_received(receiver, announcement_id, expected, within=150)
    finally:
        await stack.stop()
    proof(
        "faults: SIGKILL router+publisher mid national fan-out",
        expected=expected,
        received_before_kill=at_kill,
        lost=final.lost,
        doubled_without_dedup=final.doubled,
    )
    assert at_kill < expected, "the kill came after the fan-out had finished"
    assert final.lost == 0
