"""The archive's acceptance marks go through the shared group writer (grouping is tested in
shared/tests/test_store_group.py): concurrent marks share store writes, and a failed write
reaches every caller as the archive's own error."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from siaran_ingest.submissions import ArchiveWriteFailed, Submission, Submissions, SubmissionState
from siaran_shared.events import Announcement, Target, utcnow


class Docs:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    async def put_many(self, docs: Mapping[str, Any]) -> None:
        await asyncio.sleep(0.01)
        if self.fail:
            raise RuntimeError("disk full")
        self.calls.append(dict(docs))


def pending(n: int) -> Submission:
    announcement = Announcement(id=f"a{n}", title="T", body="B", target=Target(national=True))
    return Submission(
        id=announcement.id, hash="h", status=SubmissionState.PENDING, announcement=announcement,
        submitted_by="k", scope="national", accepted_at=utcnow(),
    )  # fmt: skip


async def test_concurrent_acceptances_share_store_writes() -> None:
    docs = Docs()
    submissions = Submissions(docs)  # type: ignore[arg-type]
    accepted = await asyncio.gather(*(submissions.accept(pending(i)) for i in range(50)))
    assert {s.status for s in accepted} == {SubmissionState.ACCEPTED}
    assert sum(len(c) for c in docs.calls) == 50
    assert len(docs.calls) <= 2, "the first write alone, then everyone who queued behind it"


async def test_a_failed_write_fails_every_caller_with_the_archives_error() -> None:
    submissions = Submissions(Docs(fail=True))  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(submissions.accept(pending(i)) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ArchiveWriteFailed) for r in results)
    assert "disk full" in str(results[0])
    with pytest.raises(ArchiveWriteFailed):
        await submissions.accept(pending(99))
