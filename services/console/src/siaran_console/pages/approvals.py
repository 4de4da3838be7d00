"""Approvals: the announcements waiting for another person's approval within the key's scope,
each with its per-platform preview; approve, or reject with a reason (required)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from siaran_console.backends import ApiProblem
from siaran_console.forms import preview_body, text
from siaran_console.i18n import translations
from siaran_console.pages.announcements import delivery_page
from siaran_console.previews import PreviewResult, preview_of
from siaran_console.security import local_path
from siaran_console.sessions import Session
from siaran_console.web import (
    backends_of,
    checked_form,
    key_of,
    problem_page,
    redirect,
    render,
    signed_in,
)

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]
PAGE_SIZE = 20
#: ingest answers these while its list route is not deployed: the page says so.
NO_LIST_ROUTE = (404, 405)


async def _queue(
    request: Request, session: Session, cursor: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The pending announcements of this page of the queue, each with its preview."""
    backends, key = backends_of(request), key_of(session)
    answer = await backends.listed(key, status="pending_approval", limit=PAGE_SIZE, cursor=cursor)
    items = [i for i in answer.get("items", []) if isinstance(i, dict) and i.get("id")]

    async def full(item: dict[str, Any]) -> dict[str, Any]:
        if "body" in item and "target" in item:
            return item
        try:
            return dict(await backends.announcement(key, str(item["id"])))
        except ApiProblem:
            return item

    announcements = await asyncio.gather(*(full(i) for i in items))
    previews: list[PreviewResult] = await asyncio.gather(
        *(preview_of(backends, key, preview_body(a)) for a in announcements)
    )
    rows = [
        {"a": a, "preview": p, "own": session.submitted(a)}
        for a, p in zip(announcements, previews, strict=True)
    ]
    return rows, answer.get("next_cursor") or None


async def _page(
    request: Request,
    session: Session,
    *,
    status: int = 200,
    refused: dict[str, str] | None = None,
) -> Response:
    cursor = request.query_params.get("cursor", "")
    try:
        rows, next_cursor = await _queue(request, session, cursor)
    except ApiProblem as problem:
        if problem.status in NO_LIST_ROUTE:
            return render(request, "approvals.html", status, unavailable=True, rows=[])
        return problem_page(request, problem)
    return render(request, "approvals.html", status, rows=rows, next_cursor=next_cursor,
                  refused=refused or {}, unavailable=False)  # fmt: skip


@router.get("/approvals")
async def approvals(request: Request, session: SignedIn) -> Response:
    if not session.may_approve:
        return problem_page(request, _no_role(session))
    return await _page(request, session)


def _no_role(session: Session) -> ApiProblem:
    _ = translations(session.locale).gettext
    return ApiProblem(403, _("Your key does not have the approve role."))


@router.post("/approvals/{announcement_id}/approve")
async def approve(request: Request, session: SignedIn, announcement_id: str) -> Response:
    await checked_form(request)
    _ = translations(session.locale).gettext
    try:
        await backends_of(request).step(key_of(session), announcement_id, "approve")
    except ApiProblem as problem:
        session.flash(_("Not approved: %(reason)s") % {"reason": problem.message})
        return redirect(request, "/approvals")
    session.flash(_("Approved. Deliveries start now; this page updates by itself."))
    return redirect(request, f"/announcements/{quote(announcement_id, safe='')}")


@router.post("/approvals/{announcement_id}/reject")
async def reject(request: Request, session: SignedIn, announcement_id: str) -> Response:
    form = await checked_form(request)
    _ = translations(session.locale).gettext
    reason, back = text(form, "reason"), local_path(text(form, "next"), "/approvals")
    if not reason:
        missing = _("Give a reason: the writer reads it to fix the text.")
        if back != "/approvals":  # from the announcement's own page: shown there
            return await delivery_page(request, session, announcement_id, status=422,
                                       refusal=missing)  # fmt: skip
        return await _page(request, session, status=422, refused={announcement_id: missing})
    body = {"reason": reason}
    try:
        await backends_of(request).step(key_of(session), announcement_id, "reject", body)
    except ApiProblem as problem:
        if problem.status == 422:
            return await _page(
                request, session, status=422, refused={announcement_id: problem.message}
            )
        session.flash(_("Not rejected: %(reason)s") % {"reason": problem.message})
        return redirect(request, "/approvals")
    session.flash(_("Rejected. The writer sees your reason in the announcement's history."))
    return redirect(request, back)
