"""The HTTP API of ingest: submit (JSON or CAP 1.2), read and cancel announcements."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from siaran_shared.auth import ApiKey
from siaran_shared.http import ApiError, AuthKey

from siaran_ingest.intake import CAP_TYPE, JSON_TYPE, Intake, Rejected
from siaran_ingest.ratelimit import RateLimiter
from siaran_ingest.submissions import PublishFailed

router = APIRouter(prefix="/v1/announcements", tags=["announcements"])


class Accepted(BaseModel):
    """202: the announcement is published for fan-out (or cancelled)."""

    id: str = Field(examples=["kominfo-2026-000123"])
    status: str = Field(description="accepted or cancelled", examples=["accepted"])
    replaces: str | None = Field(
        None, description="CAP Update only: the announcement this one replaces (now cancelled)."
    )
    cancelled: list[str] | None = Field(
        None, description="CAP Cancel only: every referenced announcement now cancelled."
    )


class ErrorDetail(BaseModel):
    field: str = Field(examples=["target.provinces"])
    message: str = Field(examples=["unknown province code(s) '99'"])
    type: str | None = Field(None, examples=["value_error"])


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["invalid announcement: check target.provinces"])
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """The contract's error shape, for every 4xx and 5xx."""

    error: ErrorBody


class CancelIn(BaseModel):
    reason: str | None = Field(None, max_length=500, examples=["diganti pengumuman baru"])


def _error(description: str, code: str, message: str) -> dict[str, Any]:
    example = {"error": {"code": code, "message": message, "details": []}}
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": example}},
    }


def _rate_limited(description: str = "Too many requests for this key") -> dict[str, Any]:
    response = _error(description, "rate_limited", "rate limit exceeded; retry after 1 s")
    response["headers"] = {
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
    }
    return response


COMMON: dict[int | str, dict[str, Any]] = {
    401: _error(
        "Missing, malformed or revoked API key", "unauthorized", "invalid or revoked API key"
    ),
    429: _rate_limited(),
}
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON,
    403: _error("Target outside the key's scope", "forbidden",
                "key 'sulsel' (province:73) may not target: 31"),
    409: _error("Same id, different content", "conflict",
                "announcement 'kominfo-2026-000123' was already submitted with different content"),
    413: _error("Body over the size limit", "payload_too_large",
                "request body is larger than the limit of 262144 bytes"),
    415: _error("Neither JSON nor CAP", "unsupported_media_type",
                "unsupported Content-Type 'text/plain'"),
    422: _error("Invalid announcement or CAP alert; one detail per field path",
                "invalid_request", "invalid announcement: check title, target"),
    503: _error("Kafka did not confirm; nothing was accepted, retry with the same id",
                "unavailable", "could not publish the announcement; retry with the same id"),
}  # fmt: skip

CAP_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>BMKG-20260115-01</identifier>
  <sender>bmkg@bmkg.go.id</sender>
  <sent>2026-01-15T16:30:12+07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>id-ID</language>
    <category>Met</category>
    <event>Hujan lebat</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <headline>Peringatan dini hujan lebat di Bantaeng</headline>
    <description>Hujan lebat disertai angin kencang diperkirakan terjadi.</description>
    <area>
      <areaDesc>Kabupaten Bantaeng</areaDesc>
      <geocode><valueName>KEMENDAGRI</valueName><value>73.03</value></geocode>
    </area>
  </info>
</alert>"""

SUBMIT_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "The announcement as JSON, or a CAP 1.2 alert (`Content-Type: application/cap+xml`): "
        "msgType Alert submits, Update submits a replacement and cancels the referenced "
        "announcements, Cancel cancels them. Area geocodes named KEMENDAGRI, BPS, region or "
        "kode_wilayah carry region codes."
    ),
    "content": {
        JSON_TYPE: {"schema": {"$ref": "#/components/schemas/AnnouncementIn"}},
        CAP_TYPE: {"schema": {"type": "string"}, "example": CAP_EXAMPLE},
    },
}


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


async def limited_key(request: Request, key: AuthKey) -> ApiKey:
    """The request's API key, within its rate limit (else 429 with Retry-After)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.acquire(key.id)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"key {key.name!r} exceeded its rate limit of {limiter.rate:g} requests/s "
            f"(bursts of {limiter.burst}); retry after {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    return key


Key = Annotated[ApiKey, Depends(limited_key)]


def _refused(exc: Rejected) -> ApiError:
    return ApiError(exc.status, exc.message, details=exc.details)


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    response_model_exclude_none=True,
    summary="Submit an announcement (JSON or CAP 1.2) for delivery",
    description=(
        "Validates, authorises against the key's scope, archives and publishes the "
        "announcement once. The same id with the same content answers 202 again without a "
        "second fan-out; with different content 409."
    ),
    responses=SUBMIT_RESPONSES,
    openapi_extra={"requestBody": SUBMIT_BODY},
)
async def submit(request: Request, key: Key) -> JSONResponse:
    raw = await request.body()
    try:
        outcome = await _intake(request).submit(raw, request.headers.get("content-type"), key)
    except Rejected as exc:
        raise _refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(
            503,
            f"could not publish the announcement ({exc}); nothing was accepted, "
            "retry with the same id",
            headers={"Retry-After": "5"},
        ) from None
    return JSONResponse(outcome.body(), status_code=202)


@router.get(
    "/{announcement_id}",
    summary="The archived announcement, with its status",
    responses={
        **COMMON,
        404: _error("Unknown, or outside the key's scope", "not_found",
                    "no announcement 'kominfo-2026-000123'"),
        422: _error("Invalid id", "invalid_request", "invalid request: check announcement_id"),
    },
)  # fmt: skip
async def read(request: Request, key: Key, announcement_id: str) -> dict[str, Any]:
    try:
        return await _intake(request).read(announcement_id, key)
    except Rejected as exc:
        raise _refused(exc) from None


@router.post(
    "/{announcement_id}/cancel",
    status_code=202,
    response_model=Accepted,
    response_model_exclude_none=True,
    summary="Cancel: pending deliveries stop, delivered ones are retracted",
    description="Cancelling again is harmless and answers 202 again.",
    responses={
        **COMMON,
        404: _error("Unknown, or outside the key's scope", "not_found",
                    "no announcement 'kominfo-2026-000123'"),
        422: _error("Invalid body", "invalid_request", "invalid request: check reason"),
        503: SUBMIT_RESPONSES[503],
    },
)  # fmt: skip
async def cancel(
    request: Request,
    key: Key,
    announcement_id: str,
    body: Annotated[CancelIn | None, Body()] = None,
) -> JSONResponse:
    try:
        outcome = await _intake(request).cancel(announcement_id, key, body.reason if body else None)
    except Rejected as exc:
        raise _refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(503, f"could not publish the cancellation ({exc}); retry") from None
    return JSONResponse(outcome.body(), status_code=202)
