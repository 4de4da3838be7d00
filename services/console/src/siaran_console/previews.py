"""Per-platform previews from the router (POST /v1/previews), for compose and approvals: what
each kind of channel would receive, its length against the platform's limit, and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from siaran_console.backends import ApiProblem, Backends


@dataclass(frozen=True)
class PreviewResult:
    """The router's preview, or why there is none (the API's message and field details)."""

    preview: dict[str, Any] | None = None
    problem: ApiProblem | None = None
    kinds: list[dict[str, Any]] = field(default_factory=list)


def kind_rows(preview: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per kind, sorted, with how full the text is (for a meter) and whether it fits."""
    rows = []
    for kind, item in sorted((preview.get("by_kind") or {}).items()):
        if not isinstance(item, dict):
            continue
        length, limit = int(item.get("length") or 0), item.get("limit")
        over = isinstance(limit, int) and length > limit
        share = min(100, round(100 * length / limit)) if isinstance(limit, int) and limit else 0
        rows.append(item | {"kind": kind, "share": share, "over": over})
    return rows


async def preview_of(backends: Backends, key: str, body: dict[str, Any]) -> PreviewResult:
    """The preview of an announcement body; a refusal (422 naming fields, 403 outside the
    scope) or an unreachable router is returned, not raised: a preview never breaks a page."""
    try:
        answer = await backends.preview(key, body)
    except ApiProblem as problem:
        return PreviewResult(problem=problem)
    if not isinstance(answer, dict):
        return PreviewResult(problem=ApiProblem(502, "router answered an empty preview"))
    return PreviewResult(preview=answer, kinds=kind_rows(answer))
