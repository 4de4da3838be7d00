"""`GET /v1/announcements`: the announcements a key can see, newest first, a page at a time.

The cursor is opaque to clients: the sort key of the last item of the page, so a page is a
range query on an index whatever the archive's size, and announcements archived meanwhile do
not shift the pages that follow.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from siaran_shared.auth import ApiKey

from siaran_ingest.answers import Rejected, visible
from siaran_ingest.submissions import Submission, Submissions, order_key

ListedStatus = Literal[
    "draft", "pending_approval", "rejected", "pending", "accepted", "completed", "cancelled"
]
LIMIT_MAX = 200
_PREFIX = "v1:"


def encode_cursor(submission: Submission) -> str:
    """The cursor that continues after this announcement."""
    key = _PREFIX + order_key(submission.accepted_at, submission.id)
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The sort key a cursor continues after; a 422 naming `cursor` when it is not one."""
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not key.startswith(_PREFIX) or "|" not in key:
        raise Rejected(
            422,
            "invalid cursor: pass the next_cursor of the previous page unchanged",
            [{"field": "cursor", "message": "not a cursor this API gave"}],
        )
    return key.removeprefix(_PREFIX)


async def page(
    submissions: Submissions,
    key: ApiKey,
    *,
    status: ListedStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Submission], str | None]:
    """One page of the announcements inside the key's scope, and the next page's cursor
    (None on the last page)."""
    before = decode_cursor(cursor) if cursor is not None else None
    found = await submissions.newest(
        scope=key.parsed_scope, status=status, before=before, limit=limit + 1
    )
    items = found[:limit]
    next_cursor = encode_cursor(items[-1]) if len(found) > limit else None
    # the query selects by scope already; this keeps a record that slipped through unseen
    return [s for s in items if visible(key, s)], next_cursor
