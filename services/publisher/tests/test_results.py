"""Outcomes produced per batch: the outcomes of deliveries ending in one turn of the event
loop go to the producer in one call, each with its own delivery's trace context, and share
one acknowledgement (or its failure)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry import context as otel_context
from siaran_publisher import records
from siaran_publisher.records import ResultsProducer
from siaran_shared.messaging import Outgoing


class Calls:
    def __init__(self) -> None:
        self.batches: list[list[Outgoing]] = []
        self.acks: list[asyncio.Future[Any]] = []

    async def send_all(self, broker: Any, source: str, items: list[Outgoing], spans: Any) -> Any:
        self.batches.append(list(items))
        self.acks.append(asyncio.get_running_loop().create_future())
        return self.acks[-1]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    found = Calls()
    monkeypatch.setattr(records, "send_all", found.send_all)
    return found


def outgoing(n: int) -> Outgoing:
    return Outgoing("siaran.results.v1", f"a{n}", None, event_id=f"d{n}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_outcomes_ending_together_are_one_producer_call(calls: Calls) -> None:
    results = ResultsProducer(broker=None, source="test")  # type: ignore[arg-type]
    first, second = otel_context.Context(), otel_context.Context()
    a = results.send([outgoing(1)], first)
    b = results.send([outgoing(2), outgoing(3)], second)
    await settle()
    assert len(calls.batches) == 1
    assert [o.context for o in calls.batches[0]] == [first, second, second]
    assert not a.done()  # the offsets wait for the broker's acknowledgement
    calls.acks[0].set_result("RecordMetadata")  # what aiokafka acknowledges with
    await settle()
    assert a.done()
    assert b.done()
    assert a.result() is None
    c = results.send([outgoing(4)], first)  # a later turn: the next batch
    await settle()
    assert len(calls.batches) == 2
    assert results.batches == 2
    assert results.records == 4
    calls.acks[1].set_exception(ConnectionError("broker gone"))
    await settle()
    with pytest.raises(ConnectionError):
        c.result()  # its records are handled again (workpool)
