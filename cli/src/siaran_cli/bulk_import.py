"""An import larger than the router takes in one request, sent in parts.

The router checks and applies one request's rows all or nothing, up to 50,000 rows. A file
with more (a whole country's civil-servant accounts) is checked whole first, every part as a
dry run, so one bad row still imports nothing; then the parts are applied one after another.
A failure while applying leaves the earlier parts applied, and importing the same file again
finishes the job (an import of rows equal to the registry changes nothing). `--prune` on a
file in parts removes, after the parts are applied, the channels that no row names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx

#: Rows per request: well under the router's 50,000, bodies of a few MB.
PART_ROWS = 10_000

Send = Callable[[Sequence[dict[str, Any]], bool, bool], httpx.Response]


class PartRefused(Exception):
    """The router refused a part; `response` is its answer, row numbers made file-wide."""

    def __init__(self, response: httpx.Response, error: dict[str, Any] | None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.error = error


def parts(rows: Sequence[dict[str, Any]]) -> list[Sequence[dict[str, Any]]]:
    return [rows[i : i + PART_ROWS] for i in range(0, len(rows), PART_ROWS)] or [rows]


def _file_wide(response: httpx.Response, offset: int) -> dict[str, Any] | None:
    """A 422's error body with row numbers counted from the file's first row."""
    if response.status_code != 422:
        return None
    try:
        error: dict[str, Any] = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    for detail in error.get("details", []):
        if isinstance(detail.get("row"), int):
            detail["row"] += offset
    return error


def import_in_parts(
    send: Send,
    rows: Sequence[dict[str, Any]],
    registry_ids: Callable[[], set[str]],
    delete: Callable[[str], None],
    *,
    dry_run: bool,
    prune: bool,
) -> dict[str, Any]:
    """Check every part, then (unless a dry run) apply them; the summary of the whole file."""
    summary: dict[str, Any] = {"rows": len(rows), "created": [], "updated": [], "removed": [],
                               "unchanged": 0, "dry_run": dry_run, "parts": 0}  # fmt: skip
    errors: list[dict[str, Any]] = []
    offset = 0
    for part in parts(rows):
        response = send(part, True, False)
        if response.status_code == 422:
            error = _file_wide(response, offset)
            if error is None:
                raise PartRefused(response, None)
            errors += error.get("details", [])
        elif response.status_code != 200:
            raise PartRefused(response, None)
        else:
            body = response.json()
            summary["created"] += body["created"]
            summary["updated"] += body["updated"]
            summary["unchanged"] += body["unchanged"]
        offset += len(part)
        summary["parts"] += 1
    if errors:
        bad = len({d.get("row") for d in errors})
        message = f"{bad} of {len(rows)} rows are invalid; nothing was imported"
        raise PartRefused(httpx.Response(422), {"message": message, "details": errors})
    if prune:
        named = {str(row.get("id")) for row in rows}
        summary["removed"] = sorted(registry_ids() - named)
    if dry_run:
        return summary
    for part in parts(rows):
        response = send(part, False, False)
        if response.status_code != 200:
            raise PartRefused(response, _file_wide(response, 0))
    for channel_id in summary["removed"]:
        delete(channel_id)
    return summary
