"""Compose: write an announcement, pick its regions and channels, submit it to ingest."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from siaran_console.backends import ApiProblem
from siaran_console.forms import (
    COMPOSE_FIELDS,
    MEDIA_FIELDS,
    PRIORITIES,
    announcement_body,
    choices,
    text,
)
from siaran_console.i18n import translations
from siaran_console.previews import PreviewResult, preview_of
from siaran_console.scope import national, province_choices
from siaran_console.sessions import Session
from siaran_console.web import (
    backends_of,
    checked_form,
    field_errors,
    key_of,
    reach,
    redirect,
    render,
    signed_in,
)

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]


def _values(form: Any | None) -> dict[str, Any]:
    if form is None:
        return {
            "priority": "normal",
            "schedule_zone": "WIB",
            "provinces": [],
            "regencies": [],
            "zones": [],
            "kinds": [],
            "fallback": [],
        }
    many = {"provinces", "regencies", "zones", "kinds", "fallback"}
    return {n: choices(form, n) for n in many} | {
        n: text(form, n) for n in (*COMPOSE_FIELDS - many, *MEDIA_FIELDS, "schedule_zone")
    }


async def _page(
    request: Request,
    session: Session,
    *,
    form: Any | None = None,
    errors: dict[str, list[str]] | None = None,
    problem: ApiProblem | None = None,
    status: int = 200,
    preview: PreviewResult | None = None,
) -> Response:
    values = _values(form)
    if form is not None:
        values["national"] = form.get("national") == "on"
    kinds, within = await reach(request, session)
    return render(
        request,
        "compose.html",
        status,
        values=values,
        errors=errors or {},
        problem=problem,
        provinces=province_choices(within),
        national=national(within),
        kinds=kinds,
        priorities=PRIORITIES,
        preview=preview,
    )


@router.get("/compose")
async def compose_page(request: Request, session: SignedIn) -> Response:
    return await _page(request, session)


@router.post("/compose/preview")
async def live_preview(request: Request, session: SignedIn) -> Response:
    """The preview as an HTML fragment, for the compose page's script (as you type)."""
    form = await checked_form(request)
    result = await preview_of(backends_of(request), key_of(session), announcement_body(form))
    return render(request, "preview_fragment.html", preview=result)


@router.post("/compose")
async def compose(request: Request, session: SignedIn) -> Response:
    form = await checked_form(request)
    action = text(form, "action")
    body = announcement_body(form)
    if action == "preview":  # the Preview button, for a browser without JavaScript
        result = await preview_of(backends_of(request), key_of(session), body)
        return await _page(request, session, form=form, preview=result)
    if action == "draft":
        body["draft"] = True
    try:
        answer = await backends_of(request).submit(key_of(session), body)
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
    flash = {
        "draft": _("Saved as a draft. Nothing is sent until it is submitted."),
        "pending_approval": _(
            "Sent for approval: another person with the approve role must approve it."
        ),
    }.get(
        str(answer.get("status")),
        _("Submitted. Deliveries start now; this page updates by itself."),
    )
    session.flash(flash)
    return redirect(request, f"/announcements/{quote(str(answer['id']), safe='')}")
