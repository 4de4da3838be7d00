"""Previews: what each channel kind would receive for an announcement, computed by the
fan-out's own functions (`select_channels`, `render_texts`) over the live registry, so a
preview cannot drift from what is delivered. Nothing is stored or published."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)
from siaran_shared.events import Announcement
from siaran_shared.regions import NATIONAL, regions

from siaran_router.limits import UNLIMITED, PlatformLimit, limit_for, measure_with, unit_of
from siaran_router.planning import Rendered, render_texts, render_title
from siaran_router.registry import Configured, Registry
from siaran_router.render import render_with
from siaran_router.targeting import select_channels

#: Platforms that cannot post without media, and the media types each can post; their
#: native adapters (endpoint schemes of the same name) skip an announcement without one.
NEEDS_MEDIA = {"instagram": {"image", "video"}, "tiktok": {"image", "video"}, "youtube": {"video"}}


class KindPreview(BaseModel):
    """The text channels of one kind would receive."""

    channels: int = Field(description="Channels of this kind the target matches.")
    title: str = Field(description="Exactly the title each of them is sent.")
    text: str = Field(description="Exactly the text each of them is sent.")
    length: int = Field(description="The text's length as the platform counts it.")
    limit: int | None = Field(description="The platform's limit; null when there is none.")
    unit: str = Field(description="What length and limit count.", examples=["weighted characters"])
    title_limit: int | None = Field(
        None, description="The platform's title limit in UTF-16 code units; null: none."
    )
    truncated: bool = Field(
        description="Whether title, text, link or hashtags were cut (or dropped) to fit."
    )


class PreviewWarning(BaseModel):
    """Something the sender should know before submitting."""

    code: Literal["media_required", "no_channels", "truncated"]
    kind: str | None = Field(None, description="The channel kind concerned.")
    region: str | None = Field(None, description="The named region with no channel.")
    tag: str | None = Field(None, description="The named tag no channel has.")
    channels: int = Field(description="Channels concerned (0 for no_channels).")
    skipped: int | None = Field(
        None, description="media_required: channels (native adapters) that would be skipped."
    )

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a warning names only what it is about: {"code", "kind", "channels"}, no nulls
        dumped: dict[str, Any] = handler(self)
        return {k: v for k, v in dumped.items() if v is not None}


#: Documented by its fields (its serializer, which leaves the nulls out, would hide them).
DocumentedWarning = Annotated[
    PreviewWarning, WithJsonSchema(PreviewWarning.model_json_schema(), mode="serialization")
]


class Preview(BaseModel):
    """What an announcement would reach and what each kind would receive."""

    channels: int = Field(description="Channels the target matches.")
    regions: int = Field(description="Distinct regions of those channels.")
    by_kind: dict[str, KindPreview]
    warnings: list[DocumentedWarning]


def _scheme(channel: Configured) -> str:
    return urlsplit(channel.endpoint).scheme.lower()


def _truncated(announcement: Announcement, limit: PlatformLimit, shown: Rendered) -> bool:
    """Whether anything was lost to the limits: the render without them differs."""
    a = announcement
    if shown.title != render_title(_without_title_limit(limit), a.title):
        return True
    if limit.max_chars == UNLIMITED and limit.hashtags_max is None:
        return False
    whole = render_with(
        dataclasses.replace(limit, max_chars=UNLIMITED, hashtags_max=None), title=a.title,
        body=a.body, summary=a.summary, link=a.link, hashtags=a.hashtags,
    )  # fmt: skip
    return whole != shown.text


def _without_title_limit(limit: PlatformLimit) -> PlatformLimit:
    if limit.title_max is None:
        return limit
    return dataclasses.replace(limit, title_max=UNLIMITED)


def _by_kind(announcement: Announcement, channels: Sequence[Configured]) -> dict[str, KindPreview]:
    counts = Counter(c.kind for c in channels)
    texts = render_texts(announcement, list(counts))
    media = [m.type for m in announcement.media]
    out = {}
    for kind in sorted(counts):
        shown, limit = texts[kind], limit_for(kind, media)
        out[kind] = KindPreview(
            channels=counts[kind],
            title=shown.title,
            text=shown.text,
            length=measure_with(limit, shown.text),
            limit=None if limit.max_chars == UNLIMITED else limit.max_chars,
            unit=unit_of(limit),
            title_limit=limit.title_max,
            truncated=_truncated(announcement, limit, shown),
        )
    return out


def _unreached(announcement: Announcement, channels: Sequence[Configured]) -> list[PreviewWarning]:
    """`no_channels` for each kind, tag and region the target names that no channel has."""
    t = announcement.target
    kinds = {c.kind for c in channels}
    tags = {tag for c in channels for tag in c.tags}
    reached = {c.region for c in channels}
    reached |= {regions().province_of(r) for r in reached if r != NATIONAL}
    if any(c.region == NATIONAL for c in channels):
        reached.add(NATIONAL)
    named = [*t.provinces, *t.regencies, *([NATIONAL] if t.national else [])]
    none: Final = "no_channels"
    return [
        *(PreviewWarning(code=none, kind=k, channels=0) for k in t.kinds if k not in kinds),
        *(PreviewWarning(code=none, tag=g, channels=0) for g in t.tags if g not in tags),
        *(PreviewWarning(code=none, region=r, channels=0) for r in named if r not in reached),
    ]


def _warnings(
    announcement: Announcement, channels: Sequence[Configured], by_kind: dict[str, KindPreview]
) -> list[PreviewWarning]:
    warnings = []
    have = {m.type for m in announcement.media}
    lacking = {name for name, types in NEEDS_MEDIA.items() if not types & have}
    for kind, shown in by_kind.items():
        of_kind = [c for c in channels if c.kind == kind]
        skipped = sum(1 for c in of_kind if _scheme(c) in lacking)
        if kind in lacking or skipped:
            warnings.append(
                PreviewWarning(
                    code="media_required", kind=kind, channels=shown.channels, skipped=skipped
                )
            )
    warnings.extend(_unreached(announcement, channels))
    warnings.extend(
        PreviewWarning(code="truncated", kind=kind, channels=shown.channels)
        for kind, shown in by_kind.items()
        if shown.truncated
    )
    return warnings


async def preview(announcement: Announcement, registry: Registry) -> Preview:
    """The preview of `announcement` against the registry as it is now: channels chosen on
    the event loop (where the registry changes), texts rendered in a worker thread as the
    fan-out renders them."""
    channels = select_channels(announcement.target, registry)
    return await asyncio.to_thread(_preview_of, announcement, channels)


def _preview_of(announcement: Announcement, channels: Sequence[Configured]) -> Preview:
    by_kind = _by_kind(announcement, channels)
    return Preview(
        channels=len(channels),
        regions=len({c.region for c in channels}),
        by_kind=by_kind,
        warnings=_warnings(announcement, channels, by_kind),
    )
