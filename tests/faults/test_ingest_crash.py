"""Ingest killed with SIGKILL between archiving a submission and producing it: the client's
retry, answered by the restarted ingest, publishes it, and every delivery arrives."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Receiver, eventually
from tests.faults.helpers import all_received, fault_stack, register_national

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def test_ingest_killed_between_store_write_and_produce(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    # a publish timeout longer than the test's pause, so ingest is killed while producing
    stack = await fault_stack(tmp_path / "ingest", SIARAN_INGEST_PUBLISH_TIMEOUT_S="120")
    broker = stack.stack.broker
    assert broker is not None
    assert broker.proc is not None
    announcement_id = "fault-ingest-crash"
    body = {
        "id": announcement_id,
        "title": "Peringatan dini tsunami",
        "body": "Segera menjauhi pantai.",
        "priority": "urgent",
        "target": {"national": True, "tags": ["ingest"]},
    }
    try:
        expected = await register_national(stack, receiver, "ingest")
        os.killpg(broker.proc.pid, signal.SIGSTOP)  # produce cannot be confirmed now
        try:
            async with stack.client("ingest") as ingest:
                submitting = asyncio.create_task(ingest.post("/v1/announcements", json=body))

                async def archived_pending() -> bool:
                    r = await ingest.get(f"/v1/announcements/{announcement_id}")
                    return r.status_code == 200 and r.json()["status"] == "pending"

                await eventually(archived_pending, within=30, what="the submission archived")
                await stack.stack.services["ingest"].kill()
                with pytest.raises(httpx.TransportError):  # died with the process
                    await submitting
        finally:
            os.killpg(broker.proc.pid, signal.SIGCONT)
        await stack.stack.services["ingest"].start()
        await stack.stack.wait_ready(60, ("ingest",))
        async with stack.client("ingest") as ingest:
            retried = await ingest.post("/v1/announcements", json=body)  # the client's retry
        assert retried.status_code == 202, retried.text
        final = await all_received(receiver, announcement_id, expected, within=120)
    finally:
        await stack.stop()
    proof(
        "faults: SIGKILL ingest between store write and produce, client retries",
        expected=expected,
        lost=final.lost,
        doubled_without_dedup=final.doubled,
    )
    assert final.lost == 0
