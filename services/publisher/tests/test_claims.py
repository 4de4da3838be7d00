"""Never twice, when the store fails: an outcome whose write failed is written again by the
next copy of the task, never sent a second time once the claim's lease runs out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from siaran_shared.events import DeliveryStatus, utcnow
from siaran_shared.store import StoreUnavailable

from .conftest import Harness, ScriptedReceiver, task


async def test_a_failed_outcome_write_never_becomes_a_second_post(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/once", 200, 200)
    harness.docs.failures = 1  # the outcome's write, after the post
    with pytest.raises(StoreUnavailable):  # the consumer handles the record again, later
        await harness.deliverer.handle(task(url))
    assert len(receiver.at("/once")) == 1
    again = await harness.deliverer.handle(task(url))  # the consumer's next try
    assert [o.status for o in again.results] == [DeliveryStatus.DELIVERED]
    # long after the claim's lease: nothing left to re-queue, nothing posted again
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=10)) == 0
    assert harness.requeued == []
    assert len(receiver.at("/once")) == 1


async def test_an_outcome_stays_unrecorded_while_the_store_is_down_and_is_never_resent(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/down", 200, 200)
    harness.docs.failures = 3  # the outcome's write and the next two tries of it
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await harness.deliverer.handle(task(url))
    [outcome] = (await harness.deliverer.handle(task(url))).results
    assert outcome.status is DeliveryStatus.DELIVERED
    assert outcome.attempts == 1
    assert len(receiver.at("/down")) == 1
