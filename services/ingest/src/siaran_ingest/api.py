"""The HTTP API of ingest: submit (JSON or CAP 1.2), read and cancel announcements."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from siaran_shared.auth import ApiKey
from siaran_shared.http import ApiError, AuthKey
from siaran_shared.responses import UNAUTHORIZED, Responses, error_doc, invalid

from siaran_ingest.answers import CAP_TYPE, JSON_TYPE, Rejected
from siaran_ingest.archive import PublishFailed
from siaran_ingest.intake import Intake
from siaran_ingest.listing import LIMIT_MAX, ListedStatus, page
from siaran_ingest.models import Accepted, AnnouncementPage, ArchivedAnnouncement, CancelIn
from siaran_ingest.ratelimit import RateLimiter

router = APIRouter(prefix="/v1/announcements", tags=["announcements"])


RATE_LIMITED = error_doc(
    "Too many requests for this key",
    "rate_limited",
    "rate limit exceeded; retry after 1 s",
    headers={"Retry-After": "Seconds to wait"},
)
COMMON: Responses = {**UNAUTHORIZED, 429: RATE_LIMITED}
NOT_FOUND = error_doc("Unknown, or outside the key's scope", "not_found",
                      "no announcement 'kominfo-2026-000123'")  # fmt: skip
NOT_JSON = error_doc("The body is not JSON", "bad_request", "There was an error parsing the body")
TOO_LARGE = error_doc("Body over the size limit", "payload_too_large",
                      "request body is larger than the limit of 262144 bytes")  # fmt: skip
UNAVAILABLE = error_doc(
    "Kafka did not confirm; nothing was accepted, retry with the same id",
    "unavailable",
    "could not publish the announcement; retry with the same id",
    headers={"Retry-After": "Seconds to wait"},
)
CANCEL_RESPONSES: Responses = {
    **COMMON, 400: NOT_JSON, 404: NOT_FOUND, 413: TOO_LARGE, **invalid("reason"),
    409: error_doc("Never published (draft, pending_approval, rejected)", "conflict",
                   "announcement 'a-1' is draft; cancel needs it to be accepted"),
    503: UNAVAILABLE,
}  # fmt: skip
SUBMIT_RESPONSES: Responses = {
    **COMMON,
    403: error_doc("Target outside the key's scope", "forbidden",
                   "key 'sulsel' (province:73) may not target: 31"),
    404: error_doc("CAP Cancel referencing no known announcement", "not_found",
                   "CAP Cancel 'BMKG-1' references no known announcement"),
    409: error_doc("Same id, different content", "conflict",
                   "announcement 'kominfo-2026-000123' was already submitted with different "
                   "content"),
    413: TOO_LARGE,
    415: error_doc("Neither JSON nor CAP", "unsupported_media_type",
                   "unsupported Content-Type 'text/plain'"),
    422: error_doc("Invalid announcement or CAP alert; one detail per field path",
                   "invalid_request", "invalid announcement: check title, target"),
    503: UNAVAILABLE,
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
        "msgType Alert submits, Update (with `references`) submits a replacement and cancels "
        "the referenced announcements, Cancel (with `references`) cancels them. Area geocodes "
        "named KEMENDAGRI, BPS, region or kode_wilayah carry region codes. For example:\n\n"
        f"```xml\n{CAP_EXAMPLE}\n```"
    ),
    "content": {
        JSON_TYPE: {"schema": {"$ref": "#/components/schemas/AnnouncementIn"}},
        CAP_TYPE: {"schema": {"$ref": "#/components/schemas/CapAlert"}},
    },
}


def intake_of(request: Request) -> Intake:
    """The app's intake."""
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


def refused(exc: Rejected) -> ApiError:
    """The contract's error answer of a refusal."""
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
        'second fan-out; with different content 409. With `"draft": true` it is only '
        "stored (201, status draft); from a key with the draft role and no publish role it "
        "waits for approval (202, status pending_approval)."
    ),
    responses=SUBMIT_RESPONSES,
    openapi_extra={"requestBody": SUBMIT_BODY},
)
async def submit(request: Request, response: Response, key: Key) -> Accepted:
    raw = await request.body()
    try:
        answer = await intake_of(request).submit(raw, request.headers.get("content-type"), key)
    except Rejected as exc:
        raise refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(
            503,
            f"could not publish the announcement ({exc}); nothing was accepted, "
            "retry with the same id",
            headers={"Retry-After": "5"},
        ) from None
    if answer.status == "draft":
        response.status_code = 201
    return answer.model()


@router.get(
    "",
    response_model=AnnouncementPage,
    summary="The announcements the key can see, newest first",
    description=(
        "Only announcements whose whole target lies inside the key's scope. Filter by "
        "`status`; page with `limit` and the `next_cursor` of the previous page."
    ),
    responses={**COMMON, **invalid("status, limit or cursor")},
)
async def list_announcements(
    request: Request,
    key: Key,
    status: Annotated[ListedStatus | None, Query(description="Only this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor")] = None,
) -> AnnouncementPage:
    submissions = intake_of(request).archive.submissions
    try:
        items, next_cursor = await page(submissions, key, status=status, limit=limit, cursor=cursor)
    except Rejected as exc:
        raise refused(exc) from None
    return AnnouncementPage(
        items=[ArchivedAnnouncement.of(s) for s in items], next_cursor=next_cursor
    )


@router.get(
    "/{announcement_id}",
    response_model=ArchivedAnnouncement,
    summary="The archived announcement, with its status",
    responses={**COMMON, 404: NOT_FOUND, **invalid("announcement_id")},
)
async def read(request: Request, key: Key, announcement_id: str) -> ArchivedAnnouncement:
    try:
        return ArchivedAnnouncement.of(await intake_of(request).read(announcement_id, key))
    except Rejected as exc:
        raise refused(exc) from None


@router.post(
    "/{announcement_id}/cancel",
    status_code=202,
    response_model=Accepted,
    response_model_exclude_none=True,
    summary="Cancel: pending deliveries stop, delivered ones are retracted",
    description="Cancelling again is harmless and answers 202 again.",
    responses=CANCEL_RESPONSES,
)
async def cancel(
    request: Request,
    key: Key,
    announcement_id: str,
    body: Annotated[CancelIn | None, Body()] = None,
) -> Accepted:
    try:
        answer = await intake_of(request).cancel(
            announcement_id, key, body.reason if body else None
        )
    except Rejected as exc:
        raise refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(503, f"could not publish the cancellation ({exc}); retry") from None
    return answer.model()
