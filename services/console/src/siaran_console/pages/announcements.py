"""Announcements: the list with totals, one announcement's delivery, cancel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from siaran_shared.regions import NATIONAL, ZONE_OFFSETS, regions

from siaran_console.backends import ApiProblem
from siaran_console.forms import COMPOSE_FIELDS, correction_values, text
from siaran_console.i18n import translations
from siaran_console.scope import national, province_choices
from siaran_console.sessions import Session
from siaran_console.tiles import list_row, live_view, not_reached, tile_rows
from siaran_console.web import (
    backends_of,
    checked_form,
    field_errors,
    key_of,
    problem_page,
    reach,
    redirect,
    render,
    signed_in,
)

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]
STATES = ("delivering", "complete", "cancelled", "waiting")
FAILED_SHOWN = 200


def since_of(day: str, zone: str) -> str | None:
    """The start of a day (YYYY-MM-DD) in the person's zone, as an ISO time; None if blank
    or not a date."""
    try:
        start = date.fromisoformat(day)
    except ValueError:
        return None
    return datetime.combine(start, time(), ZONE_OFFSETS.get(zone)).isoformat()


@dataclass(frozen=True)
class ListFilter:
    """What the announcements list is narrowed to (the page's query and its live stream's)."""

    q: str = ""
    state: str = ""
    since: str = ""
    region: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ListFilter:
        state, region = params.get("state", ""), params.get("region", "")
        known = regions()
        return cls(
            q=params.get("q", "").strip(),
            state=state if state in STATES else "",
            since=params.get("since", ""),
            region=region if region == NATIONAL or known.exists(region) else "",
        )


def matches(item: dict[str, Any], row: dict[str, Any], q: str, state: str) -> bool:
    """Whether a listed announcement fits the filter (words of its title or id, state)."""
    haystack = f"{item.get('id', '')} {item.get('title') or ''}".casefold()
    return (not q or q.casefold() in haystack) and (not state or row["state"] == state)


async def recent_rows(
    request: Request, session: Session, only: ListFilter = ListFilter()
) -> list[dict[str, Any]]:
    """The announcements the metrics API lists, with their live state, filtered."""
    answer = await backends_of(request).recent(
        key_of(session), since=since_of(only.since, session.zone), limit=200,
        region=only.region or None,
    )  # fmt: skip
    rows = []
    for item in answer.get("items", []):
        row = list_row(item)
        if matches(item, row, only.q, only.state):
            rows.append(item | row)
    return rows


@router.get("/announcements")
async def announcements(request: Request, session: SignedIn) -> Response:
    only = ListFilter.of(request.query_params)
    try:
        rows = await recent_rows(request, session, only)
    except ApiProblem as problem:
        return problem_page(request, problem)
    _, within = await reach(request, session)
    return render(
        request, "announcements.html", rows=rows, q=only.q, state=only.state, since=only.since,
        region=only.region, states=STATES, provinces=province_choices(within),
        national=national(within),
    )  # fmt: skip


@router.get("/announcements/{announcement_id}")
async def delivery(request: Request, session: SignedIn, announcement_id: str) -> Response:
    return await delivery_page(request, session, announcement_id)


async def failed_deliveries(
    request: Request, key: str, announcement_id: str
) -> tuple[list[dict[str, Any]], ApiProblem | None]:
    """The failed channels with reasons and attempts (metrics' per-delivery detail); a 404
    is none yet (not in the ledger), any other refusal is said on the page."""
    try:
        answer = await backends_of(request).deliveries(
            key, announcement_id, status="failed", limit=FAILED_SHOWN
        )
    except ApiProblem as problem:
        return [], None if problem.status == 404 else problem
    items = answer.get("items", []) if isinstance(answer, dict) else []
    known = regions()
    return [
        i
        | {"region_name": known.name_of(i["region"]) if known.exists(str(i.get("region"))) else ""}
        for i in items
        if isinstance(i, dict)
    ], None


async def delivery_page(
    request: Request,
    session: Session,
    announcement_id: str,
    *,
    status: int = 200,
    correction: ApiProblem | None = None,
    values: dict[str, Any] | None = None,
    refusal: str | None = None,
) -> Response:
    """An announcement's delivery: live progress, failed channels, correction and cancel."""
    backends = backends_of(request)
    key = key_of(session)
    try:
        announcement = await backends.announcement(key, announcement_id)
    except ApiProblem as problem:
        return problem_page(request, problem)
    try:
        report: dict[str, Any] = await backends.report(key, announcement_id)
    except ApiProblem as problem:
        if problem.status != 404:  # 404: accepted, not in the ledger yet
            return problem_page(request, problem)
        report = {"id": announcement_id}
    failed, failed_problem = await failed_deliveries(request, key, announcement_id)
    return render(
        request,
        "delivery.html",
        status,
        announcement=announcement,
        view=live_view(report),
        not_reached=not_reached(report),
        rows=tile_rows(),
        failed=failed,
        failed_problem=failed_problem,
        correction=correction,
        correction_errors=field_errors(correction.details, COMPOSE_FIELDS) if correction else {},
        values=values or correction_values(announcement),
        refusal=refusal,
    )


@router.post("/announcements/{announcement_id}/cancel")
async def cancel(request: Request, session: SignedIn, announcement_id: str) -> Response:
    form = await checked_form(request)
    _ = translations(session.locale).gettext
    try:
        await backends_of(request).cancel(key_of(session), announcement_id, text(form, "reason"))
    except ApiProblem as problem:
        return problem_page(request, problem)
    session.flash(_("Cancelled: pending deliveries stop, delivered posts are retracted."))
    return redirect(request, f"/announcements/{quote(announcement_id, safe='')}")
