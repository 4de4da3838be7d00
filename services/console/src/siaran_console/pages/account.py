"""Sign-in with an API key, sign-out, and the language and time-zone choice."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from siaran_console.backends import ApiProblem
from siaran_console.forms import text
from siaran_console.scope import regions_in, zone_of
from siaran_console.security import local_path
from siaran_console.sessions import Session
from siaran_console.web import (
    backends_of,
    checked_form,
    console_of,
    key_of,
    redirect,
    render,
    session_of,
    signed_out,
)

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    session = session_of(request)
    return redirect(request, "/announcements" if session.signed_in else "/signin")


@router.get("/signin")
async def signin_page(request: Request) -> Response:
    session = session_of(request)
    if session.signed_in:
        return redirect(request, "/announcements")
    return render(request, "signin.html", next=local_path(request.query_params.get("next"), ""))


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await checked_form(request)
    key = text(form, "api_key")
    target = local_path(text(form, "next"), "/announcements")
    if not key:
        return render(request, "signin.html", 422, error="missing", next=target)
    backends = backends_of(request)
    try:
        manages_channels = await backends.key_manages_channels(key)
        identity = await backends.identity(key)
    except ApiProblem as problem:
        error = "refused" if problem.status in (401, 403) else "unavailable"
        return render(
            request,
            "signin.html",
            401 if error == "refused" else 503,
            error=error,
            problem=problem,
            next=target,
        )
    console = console_of(request)
    token, session = console.sessions.sign_in(
        request.cookies.get(console.cookie_name),
        key,
        manages_channels=manages_channels,
        identity=identity,
    )
    await _local_zone(request, session)
    return redirect(request, target, token=token)


async def _local_zone(request: Request, session: Session) -> None:
    """Dates in the officer's own zone: WITA for a key of Sulawesi Selatan, and so on."""
    try:
        coverage = await backends_of(request).coverage(key_of(session))
    except ApiProblem:
        return
    session.prefer(zone=zone_of(regions_in(coverage)))


@router.post("/signout")
async def signout(request: Request) -> Response:
    await checked_form(request)
    return signed_out(request, "signed_out")


@router.post("/preferences")
async def preferences(request: Request) -> Response:
    form = await checked_form(request)
    session_of(request).prefer(locale=text(form, "locale") or None, zone=text(form, "zone") or None)
    return redirect(request, local_path(text(form, "next"), "/"))
