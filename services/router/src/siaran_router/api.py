"""The channel registry API: admin keys manage the whole registry and import it; province and
regency keys manage (PUT, DELETE, list, export) the channels of the regions inside their scope.
Anything outside the scope is a 403 naming the region."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from siaran_shared.auth import ApiKey
from siaran_shared.http import AdminKey, ApiError, AuthKey

from siaran_router.bulk import plan_import
from siaran_router.channels import CHANNEL_ID_PATTERN, ChannelIn
from siaran_router.registry import Listed
from siaran_router.registry_changes import RegistryChanges
from siaran_router.secret_names import foreign_secret_names
from siaran_router.views import (
    ADMIN_ONLY,
    BAD_BODY,
    INVALID,
    NOT_FOUND,
    REGION_SCOPED,
    TOO_LARGE,
    ChannelList,
    ChannelView,
    ImportSummary,
)

router = APIRouter(prefix="/v1/channels", tags=["channels"])
MAX_IMPORT_ROWS = 50_000
ChannelId = Path(pattern=CHANNEL_ID_PATTERN, description="Your id for the channel.")


def _service(request: Request) -> RegistryChanges:
    service: RegistryChanges = request.app.state.channels
    return service


async def registry_key(key: AuthKey) -> ApiKey:
    """A key that may manage channels: admin (all), or a province or regency key (its own)."""
    if key.parsed_scope.is_admin or key.parsed_scope.region is not None:
        return key
    raise ApiError(
        403,
        f"the channel registry needs an admin, province or regency key; "
        f"key {key.name!r} is {key.scope}",
    )


RegistryKey = Annotated[ApiKey, Depends(registry_key)]


def _in_scope(key: ApiKey, region: str) -> None:
    """403 naming the region when it lies outside the key's scope."""
    if not key.parsed_scope.covers(region):
        raise ApiError(
            403, f"region {region!r} is outside the scope of key {key.name!r} ({key.scope})"
        )


def _existing(request: Request, key: ApiKey, channel_id: str) -> Listed | None:
    """The channel with this id, when any; 403 when it lies outside the key's scope."""
    channel = _service(request).registry.get(channel_id)
    if channel is not None:
        _in_scope(key, channel.region)
    return channel


@router.put(
    "/{channel_id}",
    summary="Create or replace a channel",
    responses={201: {"model": ChannelView, "description": "Created"},
               **BAD_BODY, **REGION_SCOPED, **TOO_LARGE, **INVALID},
)  # fmt: skip
async def put_channel(
    request: Request,
    response: Response,
    key: RegistryKey,
    body: ChannelIn,
    channel_id: str = ChannelId,
) -> ChannelView:
    """200 when the channel existed (replaced), 201 when it is new. A province or regency
    key may only save channels of its regions, and only replace channels already in them."""
    channel = body.to_channel(channel_id)
    _in_scope(key, channel.region)
    foreign = foreign_secret_names(key, channel)
    if foreign:
        raise ApiError(
            403, f"key {key.name!r} may only name secrets of its own regions", details=foreign
        )
    _existing(request, key, channel_id)
    created = await _service(request).save(channel)
    response.status_code = 201 if created else 200
    return ChannelView.of(channel)


@router.post(
    ":import",
    summary="Import many channels: all rows valid, or nothing changes",
    responses={**BAD_BODY, **ADMIN_ONLY, **TOO_LARGE, **INVALID},
)
async def import_channels(
    request: Request,
    _: AdminKey,
    channels: Annotated[
        list[Any],
        Body(
            embed=True,
            max_length=MAX_IMPORT_ROWS,
            description="Rows: the PUT body of a channel plus its id.",
        ),
    ],
    dry_run: Annotated[bool, Query(description="Only report what would change.")] = False,
    prune: Annotated[bool, Query(description="Also remove channels not in the rows.")] = False,
) -> ImportSummary:
    service = _service(request)
    plan = plan_import(channels, service.registry, prune=prune)
    if plan.errors:
        bad_rows = len({e["row"] for e in plan.errors})
        raise ApiError(
            422,
            f"{bad_rows} of {len(channels)} rows are invalid; nothing was imported",
            details=plan.errors,
        )
    if not dry_run and (plan.changed or plan.removed):
        await service.save_many(plan.changed, plan.removed)
    return plan.summary(dry_run=dry_run, total=len(channels))


@router.get(
    "",
    summary="List (and export) the channels of the key's regions",
    responses={**REGION_SCOPED, **INVALID},
)
async def list_channels(
    request: Request,
    key: RegistryKey,
    region: Annotated[str | None, Query(description="Region code or ID")] = None,
    kind: str | None = None,
    enabled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChannelList:
    if region is not None:
        _in_scope(key, region)
    scope = key.parsed_scope
    channels = [
        c
        for c in _service(request).registry.all()
        if scope.covers(c.region)
        and (region is None or c.region == region)
        and (kind is None or c.kind == kind)
        and (enabled is None or c.enabled == enabled)
    ]
    page = channels[offset : offset + limit]
    return ChannelList(total=len(channels), items=[ChannelView.of(c.channel()) for c in page])


@router.get(
    "/{channel_id}",
    summary="One channel and its delivery health",
    responses={**REGION_SCOPED, **NOT_FOUND, **INVALID},
)
async def get_channel(
    request: Request, key: RegistryKey, channel_id: str = ChannelId
) -> ChannelView:
    service = _service(request)
    channel = _existing(request, key, channel_id)
    if channel is None:
        raise ApiError(404, f"no channel {channel_id!r}")
    return ChannelView.of(channel.channel(), await service.health(channel_id))


@router.delete(
    "/{channel_id}",
    status_code=204,
    summary="Remove a channel",
    responses={**REGION_SCOPED, **NOT_FOUND, **INVALID},
)
async def delete_channel(
    request: Request, key: RegistryKey, channel_id: str = ChannelId
) -> Response:
    _existing(request, key, channel_id)
    if not await _service(request).remove(channel_id):
        raise ApiError(404, f"no channel {channel_id!r}")
    return Response(status_code=204)
