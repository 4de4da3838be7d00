"""The publisher killed (SIGKILL) in the middle of writing a batch of outcomes: the posts
were answered, their outcomes' write is under way (held by a lock on the store) when the
process dies. After a restart every delivery arrives, each under its one key (a
de-duplicating receiver sees each once), and every outcome says delivered."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from siaran_shared.events import DeliveryCompleted, DeliveryStatus
from siaran_shared.events.topics import RESULTS

from tests.e2e.harness import Receiver, eventually, read_to_end
from tests.faults.helpers import (
    all_received,
    announce_national,
    counts,
    fanout_started,
    fault_stack,
    register_national,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


class LateReceiver(Receiver):
    """Records each request as it arrives, answers it a second later: the posts of a fan-out
    are all in flight together, and their outcomes are written together."""

    #: requests answered so far (the shared receiver's `answered` maps paths to times)
    answers: int = 0

    async def _handle(self, request: web.Request) -> web.Response:
        response = await super()._handle(request)
        await asyncio.sleep(1.0)
        self.answers += 1
        return response


@pytest_asyncio.fixture
async def late() -> AsyncIterator[LateReceiver]:
    r = LateReceiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


async def test_publisher_killed_mid_outcome_write_loses_and_doubles_nothing(
    tmp_path: Path, late: LateReceiver, proof: Callable[..., None]
) -> None:
    home = tmp_path / "outcomes"
    stack = await fault_stack(home)
    publisher = stack.stack.services["publisher"]
    try:
        expected = await register_national(stack, late, "outcome")
        announcement_id = await announce_national(stack, "outcome")
        await fanout_started(late, announcement_id, expected)
        db = sqlite3.connect(home / "publisher.db", timeout=10, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # the publisher's writes wait for this lock now
        try:
            answered_at_lock = late.answers
            # posts answered after the lock: their outcomes are being written, and wait
            await eventually(lambda: late.answers > answered_at_lock, within=30,
                             what="posts answered, their outcomes unwritable")  # fmt: skip
            posted_at_kill = counts(late, announcement_id, expected).unique
            await publisher.kill()
        finally:
            db.execute("ROLLBACK")
            db.close()
        await publisher.start()
        await stack.stack.wait_ready(60, ("publisher",))
        final = await all_received(late, announcement_id, expected, within=150)
        outcomes = await _outcomes(stack.stack.config.bootstrap, announcement_id, expected)
    finally:
        await stack.stop()
    keys = Counter(
        r.headers["Idempotency-Key"] for r in late.requests
        if r.headers.get("Idempotency-Key", "").startswith(f"{announcement_id}:")
    )  # fmt: skip
    proof(
        "faults: SIGKILL publisher mid outcome write",
        expected=expected,
        posted_before_kill=posted_at_kill,
        lost=final.lost,
        doubled_at_deduplicating_receiver=len(keys) - expected,
        doubled_without_dedup=final.doubled,
    )
    assert posted_at_kill < expected or final.doubled > 0, "the kill came after every outcome"
    assert final.lost == 0
    assert len(keys) == expected  # one key per delivery: a de-duplicating receiver sees each once
    assert max(keys.values()) <= 2  # re-posted at most once, under the same key
    assert final.doubled <= posted_at_kill  # only what had been posted before the kill
    assert set(outcomes.values()) == {DeliveryStatus.DELIVERED}


async def _outcomes(
    bootstrap: str, announcement_id: str, expected: int
) -> dict[str, DeliveryStatus]:
    """The latest outcome of each of the announcement's deliveries, once all have one."""
    found: dict[str, DeliveryStatus] = {}

    async def every_one() -> bool:
        found.clear()
        for record in await read_to_end(bootstrap, RESULTS):
            outcome = DeliveryCompleted.model_validate_json(record.value)
            if outcome.announcement_id == announcement_id:
                found[outcome.delivery_id] = outcome.status
        return len(found) >= expected

    await eventually(every_one, within=60, every=1, what="an outcome for every delivery")
    return found
