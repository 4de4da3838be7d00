"""Changing an announcement after it was written: a correction of an accepted one (PUT, the
next revision goes to the same channels), an edit of a draft or of one waiting for approval
(back to draft), and submitting a draft."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from siaran_console.backends import ApiProblem
from siaran_console.forms import corrected_body, text
from siaran_console.i18n import translations
from siaran_console.pages.announcements import delivery_page
from siaran_console.sessions import Session
from siaran_console.web import backends_of, checked_form, key_of, problem_page, redirect, signed_in

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]


def _path(announcement_id: str) -> str:
    return f"/announcements/{quote(announcement_id, safe='')}"


@router.post("/announcements/{announcement_id}/correct")
async def correct(request: Request, session: SignedIn, announcement_id: str) -> Response:
    form = await checked_form(request)
    backends, key = backends_of(request), key_of(session)
    _ = translations(session.locale).gettext
    try:
        announcement = await backends.announcement(key, announcement_id)
        answer = await backends.replace(key, announcement_id, corrected_body(announcement, form))
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            return problem_page(request, problem)
        values = {n: text(form, n) for n in ("title", "body", "summary", "link", "hashtags")}
        return await delivery_page(request, session, announcement_id, status=problem.status,
                                   correction=problem, values=values)  # fmt: skip
    answer = answer if isinstance(answer, dict) else {}
    if announcement.get("status") in ("draft", "pending_approval"):
        session.flash(_("Draft saved. Submit it when it is ready."))
    else:
        revision = answer.get("revision") or int(announcement.get("revision") or 1) + 1
        session.flash(
            _("Correction published as revision %(revision)s to the same channels.")
            % {"revision": revision}
        )
    return redirect(request, _path(announcement_id))


@router.post("/announcements/{announcement_id}/submit")
async def submit(request: Request, session: SignedIn, announcement_id: str) -> Response:
    await checked_form(request)
    _ = translations(session.locale).gettext
    try:
        answer = await backends_of(request).step(key_of(session), announcement_id, "submit")
    except ApiProblem as problem:
        return problem_page(request, problem)
    if isinstance(answer, dict) and answer.get("status") == "pending_approval":
        session.flash(_("Sent for approval: another person with the approve role must approve it."))
    else:
        session.flash(_("Submitted. Deliveries start now; this page updates by itself."))
    return redirect(request, _path(announcement_id))
