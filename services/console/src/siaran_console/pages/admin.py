"""For admin keys only: the API keys (list, create with roles and show the new key once,
revoke) and the dead letters (list with reason and origin, replay). The APIs refuse every
other key; the console hides the pages from them too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from siaran_console.backends import ALL_ROLES, ApiProblem
from siaran_console.forms import choices, text
from siaran_console.i18n import translations
from siaran_console.sessions import Session
from siaran_console.web import (
    acted,
    backends_of,
    checked_form,
    field_errors,
    key_of,
    problem_page,
    redirect,
    render,
    signed_in,
)

router = APIRouter(prefix="/admin")
ROLES = tuple(sorted(ALL_ROLES, key=("publish", "draft", "approve").index))
KEY_FIELDS = {"name", "scope", "roles"}
#: Where a created key's secret may be in ingest's answer (shown once, never stored).
_SECRET_FIELDS = ("key", "api_key", "token", "secret")


async def admin_only(session: Annotated[Session, Depends(signed_in)]) -> Session:
    """Admin pages need an admin key; others get the 403 page (the APIs refuse them anyway)."""
    if not session.admin:
        _ = translations(session.locale).gettext
        raise ApiProblem(403, _("Only an admin key manages keys and dead letters."))
    return session


async def admin_form(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Session:
    """A form of the admin pages: its CSRF token is checked first, then the key."""
    await checked_form(request)
    return await admin_only(session)


Admin = Annotated[Session, Depends(admin_only)]
AdminForm = Annotated[Session, Depends(admin_form)]


def items_of(answer: Any) -> list[dict[str, Any]]:
    """The items of a list answer ({"items": [...]} or a bare list)."""
    items = answer.get("items", []) if isinstance(answer, dict) else answer
    return [i for i in items or [] if isinstance(i, dict)]


async def _keys_page(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    created: dict[str, Any] | None = None,
    problem: ApiProblem | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    try:
        keys = items_of(await backends_of(request).keys(key_of(session)))
    except ApiProblem as listing:
        return problem_page(request, listing)
    secret = next((str(created[f]) for f in _SECRET_FIELDS if created and created.get(f)), None)
    return render(request, "keys.html", status, keys=keys, roles=ROLES, created=created,
                  secret=secret, problem=problem,
                  errors=field_errors(problem.details, KEY_FIELDS) if problem else {},
                  values=values or {"roles": ["publish"]})  # fmt: skip


@router.get("/keys")
async def keys(request: Request, session: Admin) -> Response:
    return await _keys_page(request, session)


@router.post("/keys")
async def create_key(request: Request, session: AdminForm) -> Response:
    form = await checked_form(request)
    body = {
        "name": text(form, "name"),
        "scope": text(form, "scope"),
        "roles": choices(form, "roles"),
    }
    try:
        created = await backends_of(request).create_key(key_of(session), body)
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 401:
            return problem_page(request, problem)
        return await _keys_page(
            request, session, status=problem.status, problem=problem, values=body
        )
    return await _keys_page(
        request, session, status=201, created=created if isinstance(created, dict) else {}
    )


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, session: AdminForm, key_id: str) -> Response:
    _ = translations(session.locale).gettext
    call = backends_of(request).revoke_key(key_of(session), key_id)
    done = _("Key revoked: it is refused from now on.")
    return await acted(request, session, call, done=done, to="/admin/keys")


@router.get("/dead-letters")
async def dead_letters(request: Request, session: Admin) -> Response:
    cursor = request.query_params.get("cursor", "")
    try:
        answer = await backends_of(request).dead_letters(key_of(session), cursor=cursor)
    except ApiProblem as problem:
        return problem_page(request, problem)
    next_cursor = answer.get("next_cursor") if isinstance(answer, dict) else None
    return render(request, "dead_letters.html", letters=items_of(answer), next_cursor=next_cursor)


@router.post("/dead-letters/{letter_id}/replay")
async def replay(request: Request, session: AdminForm, letter_id: str) -> Response:
    _ = translations(session.locale).gettext
    try:
        await backends_of(request).replay(key_of(session), letter_id)
    except ApiProblem as problem:
        session.flash(_("Not replayed: %(reason)s") % {"reason": problem.message})
    else:
        session.flash(_("Replayed: the message goes through the pipeline again."))
    return redirect(request, "/admin/dead-letters")
