"""Reports and coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from siaran_shared.events import utcnow
from siaran_shared.http import ApiError, AuthKey

from siaran_metrics.ledger import Ledger
from siaran_metrics.reports import (
    announcement_report,
    announcement_summary,
    coverage,
    targeted_regions,
)

router = APIRouter(prefix="/v1", tags=["reports"])


def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


@router.get("/announcements/{announcement_id}/report", summary="Delivery report")
async def report(request: Request, key: AuthKey, announcement_id: str) -> dict[str, Any]:
    ledger = _ledger(request)
    announcement = await ledger.announcements.get(announcement_id)
    deliveries = await ledger.deliveries.find({"announcement_id": announcement_id})
    if announcement is None and not deliveries:
        raise ApiError(404, f"no announcement {announcement_id!r} in the ledger (yet)")
    targeted = targeted_regions(announcement, deliveries)
    outside = sorted(r for r in targeted if not key.parsed_scope.covers(r))
    if outside:
        raise ApiError(
            403,
            f"key {key.name!r} ({key.scope}) may not read announcement {announcement_id!r}: "
            f"it targets {', '.join(outside[:5])}{' ...' if len(outside) > 5 else ''}",
        )
    return announcement_report(announcement_id, announcement, deliveries)


@router.get("/announcements", summary="Recent announcements with their totals")
async def recent(
    request: Request,
    key: AuthKey,
    since: Annotated[
        datetime | None, Query(description="ISO time; default: the last 24 hours")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    ledger = _ledger(request)
    start = since or utcnow() - timedelta(days=1)
    # Stored times are UTC ISO strings: compare like with like (naive input is taken as UTC).
    start = start.astimezone(UTC) if start.tzinfo else start.replace(tzinfo=UTC)
    scope = key.parsed_scope
    docs = await ledger.recent(
        start.isoformat(), limit, lambda doc: scope.covers_all(doc.get("regions_targeted") or ())
    )
    items = [announcement_summary(doc) for doc in docs]
    return {"since": start.isoformat(), "items": items}


@router.get("/coverage", summary="Active channels per region and kind; regions with none")
async def coverage_view(request: Request, key: AuthKey) -> dict[str, Any]:
    state = request.app.state
    channels = await state.channels.find()
    health = {h["id"]: h for h in await state.channel_health.find()}
    return coverage(channels, health, key.parsed_scope.covers)
