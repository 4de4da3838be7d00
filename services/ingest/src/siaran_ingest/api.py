"""The HTTP API of ingest: submit, read and cancel announcements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from siaran_shared.events import utcnow
from siaran_shared.http import ApiError, AuthKey

from siaran_ingest.schema import AnnouncementIn, is_expired
from siaran_ingest.scopes import out_of_scope
from siaran_ingest.submissions import Archive, new_id

router = APIRouter(prefix="/v1/announcements", tags=["announcements"])


class Accepted(BaseModel):
    id: str = Field(examples=["kominfo-2026-000123"])
    status: str = Field(examples=["accepted"])


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=500)


def _archive(request: Request) -> Archive:
    archive: Archive = request.app.state.archive
    return archive


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    summary="Submit an announcement for delivery",
    responses={
        401: {"description": "Missing, malformed or revoked API key"},
        403: {"description": "Target outside the key's scope"},
        409: {"description": "Same id, different content"},
        413: {"description": "Body over the size limit"},
        422: {"description": "Invalid announcement; one detail per field path"},
    },
)
async def submit(request: Request, key: AuthKey, body: AnnouncementIn) -> JSONResponse:
    outside = out_of_scope(key.parsed_scope, body.target)
    if outside:
        raise ApiError(
            403,
            f"key {key.name!r} ({key.scope}) may not target: {', '.join(outside)}",
            details=[{"field": "target", "message": f"out of scope: {r}"} for r in outside],
        )
    if is_expired(body.expires_at, utcnow()):
        raise ApiError(
            422,
            "expires_at is in the past",
            details=[{"field": "expires_at", "message": "must be in the future"}],
        )
    announcement = body.to_announcement(body.id or new_id(utcnow()))
    result = await _archive(request).submit(announcement, key)
    if result.outcome == "conflict":
        raise ApiError(
            409,
            f"announcement {announcement.id!r} was already submitted with different content; "
            "use a new id",
        )
    return JSONResponse({"id": announcement.id, "status": "accepted"}, status_code=202)


@router.get("/{announcement_id}", summary="The archived announcement")
async def read(request: Request, key: AuthKey, announcement_id: str) -> dict[str, Any]:
    record = await _archive(request).get(announcement_id)
    if record is None or not _visible(key, record):
        raise ApiError(404, f"no announcement {announcement_id!r}")
    return {
        **record["announcement"],
        "status": "cancelled" if record.get("cancelled_at") else record["status"],
        "accepted_at": record["accepted_at"],
        "cancelled_at": record.get("cancelled_at"),
        "submitted_by": record["submitted_by"],
    }


@router.post(
    "/{announcement_id}/cancel",
    status_code=202,
    response_model=Accepted,
    summary="Cancel: pending deliveries stop, delivered ones are retracted",
)
async def cancel(
    request: Request,
    key: AuthKey,
    announcement_id: str,
    body: Annotated[CancelIn | None, Body()] = None,
) -> JSONResponse:
    archive = _archive(request)
    record = await archive.get(announcement_id)
    if record is None or not _visible(key, record):
        raise ApiError(404, f"no announcement {announcement_id!r}")
    await archive.cancel(announcement_id, key, body.reason if body else None)
    return JSONResponse({"id": announcement_id, "status": "cancelled"}, status_code=202)


def _visible(key: Any, record: dict[str, Any]) -> bool:
    """A key sees announcements whose every target region is within its scope."""
    from siaran_ingest.schema import TargetIn

    target = TargetIn.model_validate(record["announcement"]["target"])
    return not out_of_scope(key.parsed_scope, target)
