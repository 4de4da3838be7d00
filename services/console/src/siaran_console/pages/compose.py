"""Compose: write an announcement, pick its regions and channels, submit it to ingest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from siaran_shared.regions import regions

from siaran_console.backends import ApiProblem
from siaran_console.forms import COMPOSE_FIELDS, PRIORITIES, announcement_body, choices, text
from siaran_console.i18n import translations
from siaran_console.sessions import Session
from siaran_console.web import (
    backends_of,
    checked_form,
    field_errors,
    key_of,
    redirect,
    render,
    signed_in,
)

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]


@dataclass(frozen=True)
class ProvinceChoice:
    code: str
    name: str
    zone: str
    regencies: tuple[tuple[str, str], ...]  # (code, name)


def province_choices() -> list[ProvinceChoice]:
    """The 38 provinces with their regencies and cities, for the target picker."""
    known = regions()
    return [
        ProvinceChoice(
            code,
            known.name_of(code),
            known.zone_of(code),
            tuple((r, known.name_of(r)) for r in known.regencies_of(code)),
        )
        for code in known.provinces
    ]


async def known_kinds(request: Request, session: Session) -> list[str]:
    """The channel kinds the registry has (from coverage): the kinds worth filtering by."""
    try:
        coverage = await backends_of(request).coverage(key_of(session))
    except ApiProblem:
        return []
    kinds = {k for region in coverage.get("regions", {}).values() for k in region.get("kinds", {})}
    return sorted(kinds)


def _values(form: Any | None) -> dict[str, Any]:
    if form is None:
        return {
            "priority": "normal",
            "schedule_zone": "WIB",
            "provinces": [],
            "regencies": [],
            "zones": [],
            "kinds": [],
        }
    many = {"provinces", "regencies", "zones", "kinds"}
    return {n: choices(form, n) for n in many} | {
        n: text(form, n) for n in (*COMPOSE_FIELDS - many, "schedule_zone")
    }


async def _page(
    request: Request,
    session: Session,
    *,
    form: Any | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: ApiProblem | None = None,
    status: int = 200,
) -> Response:
    values = _values(form)
    if form is not None:
        values["national"] = form.get("national") == "on"
    return render(
        request,
        "compose.html",
        status,
        values=values,
        errors=errors or {},
        problem=problem,
        provinces=province_choices(),
        kinds=await known_kinds(request, session),
        priorities=PRIORITIES,
    )


@router.get("/compose")
async def compose_page(request: Request, session: SignedIn) -> Response:
    return await _page(request, session)


@router.post("/compose")
async def compose(request: Request, session: SignedIn) -> Response:
    form = await checked_form(request)
    try:
        answer = await backends_of(request).submit(key_of(session), announcement_body(form))
    except ApiProblem as problem:
        errors = field_errors(problem.details, COMPOSE_FIELDS)
        return await _page(
            request,
            session,
            form=form,
            errors=errors,
            problem=problem,
            status=problem.status if problem.status < 500 else 503,
        )
    _ = translations(session.locale).gettext
    session.flash(_("Submitted. Deliveries start now; this page updates by itself."))
    return redirect(request, f"/announcements/{quote(str(answer['id']), safe='')}")
