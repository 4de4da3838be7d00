"""`POST /v1/previews`: an announcement body in, what each channel kind would receive out.

The body is the one `POST /v1/announcements` takes at ingest. The fields that decide what is
rendered and where it goes are checked here by the models ingest checks them with
(`siaran_shared.announcement_in.ContentIn`: 422 naming the field); the others (id,
priority, times, callback, fallback, ...) are accepted and checked when the announcement is
submitted. The key's scope applies as on submission. Nothing is stored or
published."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ConfigDict
from siaran_shared.announcement_in import ContentIn
from siaran_shared.events import Announcement
from siaran_shared.http import ApiError, AuthKey
from siaran_shared.regions import target_regions
from siaran_shared.responses import error_doc

from siaran_router.previews import Preview, preview
from siaran_router.registry_changes import RegistryChanges
from siaran_router.views import BAD_BODY, INVALID, TOO_LARGE

router = APIRouter(prefix="/v1/previews", tags=["previews"])


class PreviewIn(ContentIn):
    """An announcement body, as `POST /v1/announcements` takes it: its content checked by
    ingest's own rules, the other fields accepted as they are."""

    model_config = ConfigDict(extra="allow")

    def to_announcement(self) -> Announcement:
        return Announcement(id="preview", **self.content())


@router.post(
    "",
    summary="Preview an announcement per channel kind (nothing is stored or sent)",
    responses={
        401: error_doc("Missing, malformed or revoked API key", "unauthorized",
                       "invalid or revoked API key"),
        403: error_doc("The target lies outside the key's scope", "forbidden",
                       "key 'sulsel' (province:73) may not target 31.71"),
        **BAD_BODY, **TOO_LARGE, **INVALID,
    },
)  # fmt: skip
async def post_preview(request: Request, key: AuthKey, body: PreviewIn) -> Preview:
    announcement = body.to_announcement()
    scope = key.parsed_scope
    outside = sorted(r for r in target_regions(announcement.target) if not scope.covers(r))
    if outside:
        more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
        raise ApiError(
            403, f"key {key.name!r} ({key.scope}) may not target {', '.join(outside[:5])}{more}"
        )
    channels: RegistryChanges = request.app.state.channels
    return await preview(announcement, channels.registry)
