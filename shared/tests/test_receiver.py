"""The shared webhook receiver answers from its script, then its status shorthand, then
200, and records each hit with what the suites read from it."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from siaran_shared.testing.receiver import Receiver


async def test_answers_in_turn_and_records_each_hit() -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        url = receiver.answer("/a", (429, {"Retry-After": "2"}, 0.0), 503)
        receiver.status_for["/b"] = [400]
        before = datetime.now(UTC)
        async with aiohttp.ClientSession() as session:
            statuses = []
            for target in (url, url, url, receiver.base + "/b", receiver.base + "/b"):
                async with session.post(target, json={"n": 1},
                                        headers={"Idempotency-Key": "k1"}) as r:  # fmt: skip
                    statuses.append((r.status, r.headers.get("Retry-After"), await r.text()))
    finally:
        await receiver.stop()
    assert statuses == [(429, "2", "no: /a"), (503, None, "no: /a"), (200, None, "ok"),
                        (400, None, "no: /b"), (200, None, "ok")]  # fmt: skip
    first, *_ = receiver.at("/a")
    assert len(receiver.at("/a")) == 3
    assert receiver.requests is receiver.hits
    assert first.json == {"n": 1}
    assert first.key == "k1"
    assert first.at >= before
    assert set(receiver.answered) == {"/a", "/b"}
