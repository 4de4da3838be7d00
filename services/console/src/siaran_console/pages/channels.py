"""Channels: the registry within the key's scope (list, add, edit, disable, delete) with
each channel's health and what to do when one needs reconnecting."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from siaran_shared.regions import NATIONAL, regions

from siaran_console.backends import ApiProblem
from siaran_console.forms import CHANNEL_FIELDS, channel_body, channel_values, text
from siaran_console.i18n import translations
from siaran_console.scope import province_choices
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

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]


def _path(channel_id: str) -> str:
    return f"/channels/{quote(channel_id, safe='')}"


@router.get("/channels")
async def channels(request: Request, session: SignedIn) -> Response:
    region = request.query_params.get("region", "").strip()
    kind = request.query_params.get("kind", "").strip()
    backends, key = backends_of(request), key_of(session)
    try:
        answer = await backends.channels(key, region=region, kind=kind)
        coverage = await backends.coverage(key)
    except ApiProblem as problem:
        return problem_page(request, problem)
    reconnect = {c["id"] for c in coverage.get("needs_reconnect", [])}
    items = [
        c | {"needs_reconnect": c["id"] in reconnect, "region_name": _name(c.get("region", ""))}
        for c in answer.get("items", [])
    ]
    return render(
        request,
        "channels.html",
        items=items,
        total=answer.get("total", 0),
        region=region,
        kind=kind,
        reconnect=len(reconnect),
    )


def _name(code: str) -> str:
    known = regions()
    return known.name_of(code) if code == NATIONAL or known.exists(code) else code


async def _form(
    request: Request,
    *,
    values: dict[str, Any],
    new: bool,
    health: dict[str, Any] | None = None,
    problem: ApiProblem | None = None,
    status: int = 200,
) -> Response:
    errors = field_errors(problem.details, CHANNEL_FIELDS) if problem else {}
    return render(
        request,
        "channel.html",
        status,
        values=values,
        new=new,
        health=health,
        errors=errors,
        problem=problem,
        provinces=province_choices(),
    )


@router.get("/channels/new")
async def new_channel_page(request: Request, _: SignedIn) -> Response:
    return await _form(request, values={"enabled": True}, new=True)


@router.post("/channels/new")
async def new_channel(request: Request, session: SignedIn) -> Response:
    form = await checked_form(request)
    values = channel_values(channel_body(form)) | {"id": text(form, "id")}
    backends, key = backends_of(request), key_of(session)
    _ = translations(session.locale).gettext
    try:
        await backends.channel(key, values["id"])
    except ApiProblem as problem:
        if problem.status != 404:
            return await _form(
                request, values=values, new=True, problem=problem, status=problem.status
            )
    else:
        taken = ApiProblem(
            409,
            _("A channel with this id exists already; choose another id."),
            [{"field": "id", "message": _("already in use")}],
        )
        return await _form(request, values=values, new=True, problem=taken, status=409)
    return await _save(request, session, values["id"], form, new=True)


async def _save(
    request: Request, session: Session, channel_id: str, form: Any, *, new: bool
) -> Response:
    body = channel_body(form)
    try:
        await backends_of(request).put_channel(key_of(session), channel_id, body)
    except ApiProblem as problem:
        values = channel_values(body) | {"id": channel_id}
        return await _form(request, values=values, new=new, problem=problem, status=problem.status)
    _ = translations(session.locale).gettext
    session.flash(_("Channel saved. Every router uses it within seconds."))
    return redirect(request, _path(channel_id))


@router.get("/channels/{channel_id}")
async def channel_page(request: Request, session: SignedIn, channel_id: str) -> Response:
    try:
        channel = await backends_of(request).channel(key_of(session), channel_id)
    except ApiProblem as problem:
        return problem_page(request, problem)
    return await _form(
        request, values=channel_values(channel), new=False, health=channel.get("health")
    )


@router.post("/channels/{channel_id}")
async def save_channel(request: Request, session: SignedIn, channel_id: str) -> Response:
    form = await checked_form(request)
    return await _save(request, session, channel_id, form, new=False)


@router.post("/channels/{channel_id}/enabled")
async def switch_channel(request: Request, session: SignedIn, channel_id: str) -> Response:
    form = await checked_form(request)
    backends, key = backends_of(request), key_of(session)
    _ = translations(session.locale).gettext
    try:
        channel = await backends.channel(key, channel_id)
        body = {k: v for k, v in channel.items() if k not in ("id", "health")}
        body["enabled"] = text(form, "enabled") == "on"
        await backends.put_channel(key, channel_id, body)
    except ApiProblem as problem:
        return problem_page(request, problem)
    session.flash(_("Channel enabled.") if body["enabled"] else _("Channel disabled."))
    return redirect(request, "/channels")


@router.post("/channels/{channel_id}/delete")
async def delete_channel(request: Request, session: SignedIn, channel_id: str) -> Response:
    await checked_form(request)
    _ = translations(session.locale).gettext
    call = backends_of(request).delete_channel(key_of(session), channel_id)
    return await acted(request, session, call, done=_("Channel deleted."), to="/channels")
