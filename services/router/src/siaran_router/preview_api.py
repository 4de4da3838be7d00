"""`POST /v1/previews`: an announcement body in, what each channel kind would receive out.

The body is the one `POST /v1/announcements` takes at ingest. The fields that decide what is
rendered and where it goes are checked here as ingest checks them (422 naming the field);
the others (id, priority, times, callback, fallback, ...) are accepted and checked when the
announcement is submitted. The key's scope applies as on submission. Nothing is stored or
published."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)
from siaran_shared.events import Announcement, Media, Target
from siaran_shared.http import ApiError, AuthKey
from siaran_shared.netguard import refused_reason
from siaran_shared.regions import regions, target_regions
from siaran_shared.responses import error_doc

from siaran_router.previews import Preview, preview
from siaran_router.registry_changes import RegistryChanges
from siaran_router.views import BAD_BODY, INVALID, TOO_LARGE

router = APIRouter(prefix="/v1/previews", tags=["previews"])
_HASHTAG = re.compile(r"^\w{1,100}$")
URL_MAX = 2048


def _text(maximum: int, *, required: bool = True) -> AfterValidator:
    def check(value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if required and not value:
            raise ValueError("must not be empty or only whitespace")
        if len(value) > maximum:
            raise ValueError(f"is {len(value)} characters long; the limit is {maximum}")
        return value

    return AfterValidator(check)


def _url(value: HttpUrl) -> HttpUrl:
    if len(str(value)) > URL_MAX:
        raise ValueError(f"is longer than {URL_MAX} characters")
    return value


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Url = Annotated[HttpUrl, AfterValidator(_url)]


class PreviewTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    national: bool = False
    provinces: list[str] = Field([], max_length=38, examples=[["73"]])
    regencies: list[str] = Field([], max_length=514, examples=[["73.03"]])
    zones: list[Literal["WIB", "WITA", "WIT"]] = Field([], max_length=3)
    kinds: list[Label] = Field([], max_length=32, examples=[["x", "instagram"]])
    tags: list[Label] = Field([], max_length=32)

    @field_validator("provinces", "regencies")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        known = regions()
        bad = [c for c in codes if not known.exists(c)]
        if bad:
            raise ValueError(f"unknown region code(s) {', '.join(map(repr, bad))}")
        return codes

    @model_validator(mode="after")
    def _selects_something(self) -> PreviewTarget:
        if not (self.national or self.provinces or self.regencies or self.zones):
            raise ValueError(
                "target selects no region: set national, provinces, regencies or zones"
            )
        return self


class PreviewMedia(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    type: Literal["image", "video"]
    alt: Annotated[str, _text(1000, required=False)] | None = None

    @field_validator("url")
    @classmethod
    def _safe(cls, v: HttpUrl) -> HttpUrl:
        if reason := refused_reason(v.host):  # the endpoint rules channels follow
            raise ValueError(f"url refused: {reason}")
        return v


class PreviewIn(BaseModel):
    """An announcement body, as `POST /v1/announcements` takes it."""

    model_config = ConfigDict(extra="allow")

    title: Annotated[str, _text(200)]
    body: Annotated[str, _text(20_000)]
    summary: Annotated[str, _text(500, required=False)] | None = None
    link: Url | None = None
    hashtags: list[str] = Field([], max_length=30)
    target: PreviewTarget
    media: list[PreviewMedia] = Field([], max_length=10)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        out = [unicodedata.normalize("NFC", tag).strip() for tag in tags]
        for i, tag in enumerate(out):
            if not _HASHTAG.match(tag):
                raise ValueError(f"hashtag {i} ({tag[:40]!r}) must be one word, without '#'")
        return out

    def to_announcement(self) -> Announcement:
        t = self.target
        return Announcement(
            id="preview",
            title=self.title,
            body=self.body,
            summary=self.summary or None,
            link=str(self.link) if self.link else None,
            hashtags=tuple(self.hashtags),
            target=Target(national=t.national, provinces=tuple(t.provinces),
                          regencies=tuple(t.regencies), zones=tuple(t.zones),
                          kinds=tuple(t.kinds), tags=tuple(t.tags)),
            media=tuple(Media(url=str(m.url), type=m.type, alt=m.alt) for m in self.media),
        )  # fmt: skip


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
