"""`completed`: metrics tells, on the announcements topic, when every delivery of an
announcement's revision has a final outcome (`AnnouncementCompleted`); the archive marks the
announcement completed when that revision is still its latest.

The other events on the topic (ingest's own, and what other services add later) are not
ingest's to judge: they are skipped unread. A completion that cannot be decoded is poison for
the dead-letter topic. One for an older revision (a correction came since), an unknown
announcement, or one no longer accepted (cancelled, completed already) changes nothing: a
completion consumed twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from siaran_shared.events import AnnouncementCompleted, CompletionStatus
from siaran_shared.messaging import Poison, decode, decode_headers

from siaran_ingest.submissions import HistoryEntry, Submissions, SubmissionState

#: Who the history names for a step the system took by itself.
SYSTEM = "siaran"


async def record_completions(
    raws: Sequence[Any], submissions: Submissions
) -> tuple[int, list[Poison]]:
    """Mark the completed announcements of a batch; how many, and the undecodable ones."""
    wanted = AnnouncementCompleted.event_type
    ours = [raw for raw in raws if decode_headers(raw).get("ce_type") == wanted]
    records, poison = decode(ours, AnnouncementCompleted)
    marked = 0
    for record in records:
        marked += await complete(submissions, record.event)
    return marked, poison


async def complete(submissions: Submissions, event: AnnouncementCompleted) -> bool:
    """Mark an announcement completed if the event is about its latest revision and it is
    accepted; whether it was marked."""
    if event.status is not CompletionStatus.COMPLETED:
        return False  # cancelled and expired announcements are recorded as such already
    for _ in range(3):  # another step may change the record between reading and writing
        submission = await submissions.get(event.announcement_id)
        if (
            submission is None
            or submission.revision != event.revision
            or submission.status is not SubmissionState.ACCEPTED
            or submission.cancelled_at is not None
        ):
            return False
        entry = HistoryEntry(at=event.completed_at, by=SYSTEM, action="complete")
        completed = submission.model_copy(
            update={"status": SubmissionState.COMPLETED, "history": (*submission.history, entry)}
        )
        if await submissions.move(submission, completed):
            return True
    return False
