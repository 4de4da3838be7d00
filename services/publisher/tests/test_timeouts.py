"""A send cannot hang: a receiver that drips its answer is cut off by the total timeout,
and one slow channel never holds every worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from siaran_publisher.outcome import Verdict
from siaran_shared.events import utcnow

from .conftest import DrippingReceiver, Harness, task


async def test_a_dripping_receiver_is_cut_off_by_the_send_timeout(
    harness: Harness, dripping: DrippingReceiver
) -> None:
    harness.delivery.transport.timeout = 0.5  # the per-read timeout (5 s here) never trips
    send = harness.delivery.transport.send(task(dripping.url))
    attempt = await asyncio.wait_for(send, timeout=10)
    assert attempt.verdict is Verdict.RETRY
    assert attempt.summary.startswith("timeout")
    assert dripping.requests == 1


async def test_a_timed_out_send_is_scheduled_for_a_retry(
    harness: Harness, dripping: DrippingReceiver
) -> None:
    harness.delivery.transport.timeout = 0.3
    handled = await asyncio.wait_for(harness.deliverer.handle(task(dripping.url)), timeout=10)
    assert handled.results == []  # not delivered, not failed: retried later
    assert await harness.scheduler.tick(utcnow() + timedelta(hours=1)) == 1
    assert [t.attempt for t in harness.requeued] == [2]


async def test_a_dripping_apprise_target_is_cut_off_too(
    harness: Harness, dripping: DrippingReceiver
) -> None:
    harness.delivery.transport.timeout = 0.5
    endpoint = f"json://127.0.0.1:{dripping.port}/drip"
    send = harness.delivery.transport.send(task(endpoint, kind="telegram"))
    attempt = await asyncio.wait_for(send, timeout=10)
    assert attempt.verdict is Verdict.RETRY
    assert attempt.summary.startswith("timeout")
