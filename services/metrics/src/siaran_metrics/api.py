"""Reports, the recent announcements and coverage, each scoped to the reader's key: an
announcement is readable when every region it targets is inside the key's scope, coverage
shows the regions inside it."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, BeforeValidator
from siaran_shared.auth import Scope
from siaran_shared.events import utcnow
from siaran_shared.http import ApiError, AuthKey
from siaran_shared.regions import NATIONAL, regions
from siaran_shared.responses import UNAUTHORIZED, error_doc, invalid

from siaran_metrics.handlers import Handlers
from siaran_metrics.ledger_store import DeliveryFilter
from siaran_metrics.models import Coverage, DeliveryPage, Recent, Report
from siaran_metrics.records import AnnouncementRecord, DeliveryState
from siaran_metrics.reports import (
    announcement_report,
    announcement_summary,
    coverage,
    delivery_item,
    targeted_regions,
)

router = APIRouter(prefix="/v1", tags=["reports"])

#: RFC 3339 date-time (what the OpenAPI `format: date-time` promises), offset required.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: object) -> object:
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value):
            raise ValueError(
                "must be an RFC 3339 date-time with its UTC offset, e.g. 2026-01-15T08:00:00Z "
                "(percent-encode '+' as %2B)"
            )
        return value.upper()
    return value


Since = Annotated[datetime, BeforeValidator(_rfc3339)]


def _province(value: str) -> str:
    if value != NATIONAL and value not in regions().provinces:
        raise ValueError(f"unknown province {value!r}: an official province code, or ID")
    return value


def _region(value: str) -> str:
    if value != NATIONAL and not regions().exists(value):
        raise ValueError(
            f"unknown region {value!r}: an official province or regency code (73, 73.03), or ID"
        )
    return value


def reaches(targeted: tuple[str, ...], region: str) -> bool:
    """Whether a target that selects `targeted` reaches `region`: the region itself, one of
    its regencies (a province), or the national channels (ID)."""
    inside = region + "."
    return any(code == region or code.startswith(inside) for code in targeted)


def _cursor(value: str) -> str:
    """The delivery id a cursor stands for (the last of the page before)."""
    try:
        after = base64.urlsafe_b64decode(value.encode("ascii") + b"==").decode()
    except (UnicodeError, binascii.Error, ValueError):
        after = ""
    if not after or encode_cursor(after) != value:
        raise ValueError("not a cursor this API gave: pass next_cursor as it came")
    return after


def encode_cursor(delivery_id: str) -> str:
    return base64.urlsafe_b64encode(delivery_id.encode()).decode().rstrip("=")


Province = Annotated[str, AfterValidator(_province)]
RegionCode = Annotated[str, AfterValidator(_region)]
Cursor = Annotated[str, AfterValidator(_cursor)]

FORBIDDEN = error_doc(
    "The announcement targets regions outside the key's scope",
    "forbidden",
    "key 'sulsel' (province:73) may not read announcement 'a1': it targets 31",
)
NOT_FOUND = error_doc("Not in the ledger (yet)", "not_found",
                      "no announcement 'kominfo-2026-000123' in the ledger (yet)")  # fmt: skip


def _handlers(request: Request) -> Handlers:
    handlers: Handlers = request.app.state.handlers
    return handlers


@router.get(
    "/announcements/{announcement_id}/report",
    response_model=Report,
    summary="Delivery report",
    responses={**UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, **invalid("announcement_id")},
)
async def report(request: Request, key: AuthKey, announcement_id: str) -> Report:
    ledger = _handlers(request).ledger
    announcement = await ledger.announcements.get(announcement_id)
    deliveries = await ledger.deliveries.tally(announcement_id)
    if announcement is None and not deliveries.count:
        raise ApiError(404, f"no announcement {announcement_id!r} in the ledger (yet)")
    outside = [
        r for r in targeted_regions(announcement, deliveries) if not key.parsed_scope.covers(r)
    ]
    if outside:
        raise ApiError(
            403,
            f"key {key.name!r} ({key.scope}) may not read announcement {announcement_id!r}: "
            f"it targets {', '.join(outside[:5])}{' ...' if len(outside) > 5 else ''}",
        )
    return announcement_report(announcement_id, announcement, deliveries)


@router.get(
    "/announcements/{announcement_id}/deliveries",
    response_model=DeliveryPage,
    summary="An announcement's deliveries, one by one",
    responses={
        **UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        **invalid("status, province, kind, limit, cursor"),
    },
)
async def deliveries(
    request: Request,
    key: AuthKey,
    announcement_id: str,
    status: DeliveryState | None = None,
    province: Annotated[Province | None, Query(description="Province code, or ID.")] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[Cursor | None, Query(description="next_cursor of the page before.")] = None,
) -> DeliveryPage:
    """Only the deliveries of regions inside the key's scope, in delivery id order."""
    ledger = _handlers(request).ledger
    announcement = await ledger.announcements.get(announcement_id)
    only = _scoped(key.name, key.parsed_scope, DeliveryFilter(status, province, None, kind))
    if announcement is None and not await ledger.deliveries.page(
        announcement_id, DeliveryFilter(), None, 1
    ):
        raise ApiError(404, f"no announcement {announcement_id!r} in the ledger (yet)")
    scope = key.parsed_scope
    if announcement is not None and not any(map(scope.covers, announcement.regions_targeted)):
        raise ApiError(
            403,
            f"key {key.name!r} ({key.scope}) may not read announcement {announcement_id!r}: "
            "it targets no region inside the key's scope",
        )
    found = await ledger.deliveries.page(announcement_id, only, cursor, limit + 1)
    more = len(found) > limit
    items = [delivery_item(d) for d in found[:limit]]
    return DeliveryPage(
        items=items, next_cursor=encode_cursor(items[-1].delivery_id) if more else None
    )


def _scoped(name: str, scope: Scope, wanted: DeliveryFilter) -> DeliveryFilter:
    """The filter narrowed to the key's regions; a province outside them is a 403."""
    if scope.is_national or scope.region is None:
        return wanted
    own = scope.region if scope.kind == "province" else regions().province_of(scope.region)
    if wanted.province not in (None, own):
        raise ApiError(
            403, f"key {name!r} ({scope}) may not read deliveries of province {wanted.province}"
        )
    if scope.kind == "province":
        return DeliveryFilter(wanted.status, own, None, wanted.kind)
    return DeliveryFilter(wanted.status, wanted.province, scope.region, wanted.kind)


@router.get(
    "/announcements",
    response_model=Recent,
    summary="Recent announcements with their totals",
    responses={**UNAUTHORIZED, **invalid("since, limit, region")},
)
async def recent(
    request: Request,
    key: AuthKey,
    since: Annotated[
        Since | None,
        Query(description="RFC 3339 date-time with its offset; default: the last 24 hours"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    region: Annotated[
        RegionCode | None,
        Query(
            description="Only announcements whose target reaches this province (or one of its"
            " regencies) or regency; ID: those sent to the whole country. Extension."
        ),
    ] = None,
) -> Recent:
    start = (since or utcnow() - timedelta(days=1)).astimezone(UTC)
    scope = key.parsed_scope

    def listed(record: AnnouncementRecord) -> bool:
        targeted = record.regions_targeted
        return scope.covers_all(targeted) and (region is None or reaches(targeted, region))

    records = await _handlers(request).ledger.announcements.recent(start.isoformat(), limit, listed)
    return Recent(since=start, items=[announcement_summary(r) for r in records])


@router.get(
    "/coverage",
    response_model=Coverage,
    summary="Active channels per region and kind; regions with none",
    responses=UNAUTHORIZED,
)
async def coverage_view(request: Request, key: AuthKey) -> Coverage:
    registry = _handlers(request).registry
    return coverage(await registry.channels(), await registry.health(), key.parsed_scope.covers)
