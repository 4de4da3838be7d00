"""What every page shares: the session from its cookie, CSRF-checked forms, rendering with
the person's language and zone, redirects that carry the cookie."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from siaran_console.backends import ApiProblem, Backends
from siaran_console.config import ConsoleSettings
from siaran_console.i18n import local_time, translations
from siaran_console.scope import kinds_in, regions_in
from siaran_console.security import same_origin
from siaran_console.sessions import Session, Sessions

#: The longest form a person can send (a 20,000-character body and 552 regions fit easily).
MAX_FORM_BYTES = 256 * 1024


class SignInNeeded(Exception):
    """The page needs a signed-in session; answered with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token, or from another origin: answered 403."""


@dataclass
class Console:
    """The console's parts, wired once by create_app and kept on app.state."""

    settings: ConsoleSettings
    sessions: Sessions
    backends: Backends
    templates: Environment

    @property
    def cookie_name(self) -> str:
        # __Host- binds the cookie to this exact origin over HTTPS (no Domain, Path=/).
        return "siaran_console" if self.local else "__Host-siaran_console"

    @property
    def local(self) -> bool:
        return self.settings.env.value == "local"


def template_environment() -> Environment:
    """Jinja templates with autoescaping on for every file: every field is escaped."""
    return Environment(
        loader=PackageLoader("siaran_console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def session_of(request: Request) -> Session:
    """The request's live session, or a new anonymous one (its cookie set on the answer)."""
    cached: Session | None = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    console = console_of(request)
    session = console.sessions.get(request.cookies.get(console.cookie_name))
    if session is None:
        token, session = console.sessions.new()
        request.state.new_token = token
    request.state.session = session
    return session


async def signed_in(request: Request) -> Session:
    """Dependency of every page behind sign-in."""
    session = session_of(request)
    if not session.signed_in:
        raise SignInNeeded
    return session


def key_of(session: Session) -> str:
    """The session's API key (signed_in has checked there is one)."""
    if session.key is None:
        raise SignInNeeded
    return session.key


async def checked_form(request: Request) -> FormData:
    """The posted form, refused unless it carries the session's CSRF token."""
    session = session_of(request)
    if not same_origin(request.headers.get("origin"), request.headers.get("host")):
        raise CsrfRefused
    form = await request.form(max_files=0, max_fields=2000)
    token = form.get("csrf_token")
    if not session.csrf_matches(token if isinstance(token, str) else None):
        raise CsrfRefused
    return form


def set_cookie(request: Request, response: Response, token: str | None = None) -> Response:
    """Attach the session cookie when the session is new (or `token` replaces it)."""
    token = token or getattr(request.state, "new_token", None)
    if token:
        console = console_of(request)
        response.set_cookie(
            console.cookie_name,
            token,
            max_age=console.settings.console_session_seconds,
            path="/",
            secure=not console.local,
            httponly=True,
            samesite="strict",
        )
    return response


def redirect(request: Request, to: str, *, token: str | None = None) -> Response:
    """303 to a page of this site (after a form post: the browser then GETs it)."""
    return set_cookie(request, RedirectResponse(to, status_code=303), token)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page in the session's language, dates in its zone; every value autoescaped."""
    console = console_of(request)
    session = session_of(request)
    catalogue = translations(session.locale)

    def when(value: Any, zone: str | None = None) -> str:
        return local_time(value, zone or session.zone, session.locale)

    html = console.templates.get_template(template).render(
        _=catalogue.gettext,
        ngettext=catalogue.ngettext,
        session=session,
        when=when,
        path=request.url.path,
        query=request.url.query,
        flashes=session.take_flashes(),
        **context,
    )
    return set_cookie(request, HTMLResponse(html, status_code=status))


def problem_page(request: Request, problem: ApiProblem) -> Response:
    """Another service refused or failed: say what it said, with its status. A key refused
    with 401 (revoked meanwhile) ends the session."""
    if problem.status == 401:
        return signed_out(request, "revoked")
    return render(request, "error.html", status=problem.status, problem=problem)


async def acted(
    request: Request, session: Session, call: Awaitable[Any], *, done: str, to: str
) -> Response:
    """A form's one API call: on success say `done` on the page `to`; a refusal is shown."""
    try:
        await call
    except ApiProblem as problem:
        return problem_page(request, problem)
    session.flash(done)
    return redirect(request, to)


def signed_out(request: Request, why: Literal["signed_out", "revoked"]) -> Response:
    """End the session (its key is forgotten), start an anonymous one with the same
    preferences and say why on the sign-in page."""
    console = console_of(request)
    old = session_of(request)
    console.sessions.end(request.cookies.get(console.cookie_name))
    token, session = console.sessions.new(like=old)
    _ = translations(session.locale).gettext
    if why == "revoked":
        session.flash(_("Your API key was refused (revoked or expired). Sign in again."))
    else:
        session.flash(_("You are signed out. Close the browser on a shared computer."))
    return redirect(request, "/signin", token=token)


def field_errors(details: list[dict[str, Any]], known: set[str]) -> dict[str, list[str]]:
    """The APIs' field details by form field ("target.provinces[0]" → "provinces");
    details of no known field are listed under "" (shown above the form)."""
    errors: dict[str, list[str]] = {}
    for detail in details:
        path = str(detail.get("field") or "").removeprefix("target.")
        name = path.split("[", 1)[0].split(".", 1)[0]
        message = str(detail.get("message") or "")
        errors.setdefault(name if name in known else "", []).append(
            message if name in known else f"{path}: {message}"
        )
    return errors


def backends_of(request: Request) -> Backends:
    return console_of(request).backends


async def reach(request: Request, session: Session) -> tuple[list[str], frozenset[str] | None]:
    """The kinds of channel and the regions the key reaches (None: unknown, offer all)."""
    try:
        coverage = await backends_of(request).coverage(key_of(session))
    except ApiProblem:
        return [], None
    return kinds_in(coverage), regions_in(coverage)
