"""The archive's group writer: concurrent marks share one store write; failures reach each."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from siaran_ingest.submissions import ArchiveWriteFailed, GroupWriter


class Docs:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    async def put_many(self, docs: Mapping[str, Any]) -> None:
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("disk full")
        self.calls.append(dict(docs))


async def test_concurrent_puts_are_grouped() -> None:
    docs = Docs()
    writer = GroupWriter(docs)  # type: ignore[arg-type]
    await asyncio.gather(*(writer.put({"id": f"a{i}"}) for i in range(50)))
    assert sum(len(c) for c in docs.calls) == 50
    assert len(docs.calls) <= 2, "the first write alone, then everyone who queued behind it"


async def test_a_failed_write_fails_every_waiter() -> None:
    writer = GroupWriter(Docs(fail=True))  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(writer.put({"id": f"a{i}"}) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ArchiveWriteFailed) for r in results)
    assert "disk full" in str(results[0])
    with pytest.raises(ArchiveWriteFailed):
        await writer.put({"id": "later"})
