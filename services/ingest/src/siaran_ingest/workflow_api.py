"""The editorial workflow's routes: replace (edit a draft, correct a published
announcement), submit, approve and reject."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from siaran_shared.auth import ApiKey
from siaran_shared.http import ApiError
from siaran_shared.responses import Responses, error_doc, invalid

from siaran_ingest.answers import JSON_TYPE, Rejected
from siaran_ingest.api import (
    COMMON,
    NOT_FOUND,
    NOT_JSON,
    TOO_LARGE,
    UNAVAILABLE,
    Key,
    intake_of,
    refused,
)
from siaran_ingest.archive import PublishFailed
from siaran_ingest.corrections import Revisions
from siaran_ingest.models import Accepted, RejectIn

router = APIRouter(prefix="/v1/announcements", tags=["announcements"])


WORKFLOW_RESPONSES: Responses = {
    **COMMON,
    403: error_doc("The key lacks the role, or submitted it itself (approve, reject)",
                   "forbidden", "key 'editor' submitted announcement 'a-1' and may not approve "
                   "it too: another key with the approve role must"),
    404: NOT_FOUND,
    409: error_doc("Not allowed from the current status", "conflict",
                   "announcement 'a-1' is draft; approve needs it to be pending_approval"),
    503: UNAVAILABLE,
}  # fmt: skip


async def _step(
    request: Request, key: ApiKey, announcement_id: str, action: str, reason: str | None = None
) -> Accepted:
    try:
        answer = await intake_of(request).act(announcement_id, key, action, reason)
    except Rejected as exc:
        raise refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(
            503, f"could not publish the announcement ({exc}); it is published shortly"
        ) from None
    return answer.model()


def _add_step(action: str, summary: str) -> None:
    """POST /v1/announcements/{id}/<action>: a workflow step without a body (202)."""

    async def endpoint(request: Request, key: Key, announcement_id: str) -> Accepted:
        return await _step(request, key, announcement_id, action)

    router.add_api_route(
        f"/{{announcement_id}}/{action}",
        endpoint,
        methods=["POST"],
        name=f"{action}_announcement",
        status_code=202,
        response_model=Accepted,
        response_model_exclude_none=True,
        summary=summary,
        responses=WORKFLOW_RESPONSES,
    )


_add_step("submit", "Submit a draft: it waits for approval, or is published for a publish key")
_add_step("approve", "Approve an announcement another key submitted: it is published")


@router.post(
    "/{announcement_id}/reject",
    response_model=Accepted,
    response_model_exclude_none=True,
    summary="Reject an announcement another key submitted, with a reason",
    responses={**WORKFLOW_RESPONSES, 400: NOT_JSON, 413: TOO_LARGE, **invalid("reason")},
)
async def reject(request: Request, key: Key, announcement_id: str, body: RejectIn) -> Accepted:
    return await _step(request, key, announcement_id, "reject", body.reason)


REPLACE_RESPONSES: Responses = {
    200: {"description": "Edited: the announcement is a draft again", "model": Accepted},
    202: {"description": "Corrected: the next revision is published", "model": Accepted},
    **COMMON,
    403: error_doc("Target outside the key's scope, or the key lacks the role (publish for a "
                   "correction, draft or publish for an edit)", "forbidden",
                   "key 'writer' (roles: draft) may not correct published announcement 'a-1': "
                   "it needs the publish role"),
    404: NOT_FOUND,
    409: error_doc("Cancelled or rejected (or changed meanwhile)", "conflict",
                   "announcement 'a-1' is cancelled; replacing it needs it to be draft, "
                   "pending_approval, accepted or completed"),
    413: TOO_LARGE,
    415: error_doc("Not JSON", "unsupported_media_type", "unsupported Content-Type 'text/xml'"),
    422: error_doc("Invalid announcement, or an id other than the path's", "invalid_request",
                   "invalid announcement: check title"),
    503: error_doc("Kafka did not confirm the correction; nothing changed, retry the same body",
                   "unavailable", "could not publish the correction; nothing changed"),
}  # fmt: skip


def _revisions(request: Request) -> Revisions:
    revisions: Revisions = request.app.state.revisions
    return revisions


@router.put(
    "/{announcement_id}",
    response_model=Accepted,
    response_model_exclude_none=True,
    summary="Replace an announcement: edit a draft, or publish a correction",
    description=(
        "The body is a whole announcement, as submitted (its `id`, if given, must be the "
        "path's; `draft` is ignored). On a `draft` or `pending_approval` announcement the "
        "content is replaced and it goes back to `draft` (200). On an `accepted` or "
        "`completed` one it is published as a correction, the next revision "
        "(`id.siaran.announcement.updated.v1`), and is `accepted` again (202); deliveries "
        "carry `Idempotency-Key: <delivery id>:r<revision>`. The same body again changes "
        "nothing and answers the current revision."
    ),
    responses=REPLACE_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/AnnouncementIn"}}},
        }
    },
)
async def replace(request: Request, response: Response, key: Key, announcement_id: str) -> Accepted:
    raw = await request.body()
    try:
        answer = await _revisions(request).replace(
            announcement_id, raw, request.headers.get("content-type"), key
        )
    except Rejected as exc:
        raise refused(exc) from None
    except PublishFailed as exc:
        raise ApiError(
            503,
            f"could not publish the correction ({exc}); nothing changed, retry the same body",
            headers={"Retry-After": "5"},
        ) from None
    response.status_code = 202 if answer.status == "accepted" else 200
    return answer.model()
