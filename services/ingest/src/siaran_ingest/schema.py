"""The announcement a ministry system submits, validated field by field.

Limits (documented in the README): title ≤ 200, summary ≤ 500, body ≤ 20,000 characters,
after Unicode NFC normalisation and trimming; link http(s) only, ≤ 2,048 characters;
at most 30 hashtags of ≤ 100 word characters without '#'; at most 10 media (http(s)
URLs, never link-local or metadata addresses); ids of 1–128 characters
from letters, digits, '.', '_' and '-'.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
    model_validator,
)
from siaran_shared.events import Announcement, Media, Priority, Target
from siaran_shared.netguard import refused_reason
from siaran_shared.regions import regions, select_regions

TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 20_000
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_HASHTAG = re.compile(r"^\w{1,100}$")
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _non_blank(text: str) -> str:
    if not text:
        raise ValueError("must not be empty or only whitespace")
    return text


#: What the OpenAPI says of text that must not be blank: a character that is not whitespace
#: (in Python's terms, which the code strips; an OpenAPI tester matches with Python's re too).
NON_BLANK = r"\S"

NormText = Annotated[str, AfterValidator(_normalise)]
# The length limits apply after normalisation (checked below); raw input may be longer.
Title = Annotated[
    NormText,
    AfterValidator(_non_blank),
    Field(
        max_length=TITLE_MAX * 4, json_schema_extra={"pattern": NON_BLANK, "maxLength": TITLE_MAX}
    ),
]
Body = Annotated[
    NormText,
    AfterValidator(_non_blank),
    Field(json_schema_extra={"pattern": NON_BLANK, "maxLength": BODY_MAX}),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(json_schema_extra={"pattern": NON_BLANK}),
]


def _codes(which: str) -> Callable[[dict[str, Any]], None]:
    """The official province or regency codes, as the enum of a list's items in the OpenAPI
    (looked up when the schema is made, not at import)."""

    def add(schema: dict[str, Any]) -> None:
        known = regions()
        provinces = list(known.regencies_by_province)
        codes = (
            provinces
            if which == "provinces"
            else [c for c in known.by_code if c not in known.regencies_by_province]
        )
        schema["items"] = {"type": "string", "enum": codes}

    return add


def _selects_a_region(schema: dict[str, Any]) -> None:
    """The OpenAPI of a target: national, or at least one province, regency or zone."""
    schema["anyOf"] = [
        {"required": ["national"], "properties": {"national": {"const": True}}},
        *(
            {"required": [name], "properties": {name: {"minItems": 1}}}
            for name in ("provinces", "regencies", "zones")
        ),
    ]


class TargetIn(BaseModel):
    """Which regions to reach, and which of their channels."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_selects_a_region)

    national: bool = Field(False, description="Every province and regency, plus national channels.")
    provinces: list[str] = Field(
        [], max_length=38, examples=[["73"]], json_schema_extra=_codes("provinces")
    )
    regencies: list[str] = Field(
        [], max_length=514, examples=[["71.71"]], json_schema_extra=_codes("regencies")
    )
    zones: list[Literal["WIB", "WITA", "WIT"]] = Field([], max_length=3)
    kinds: list[Label] = Field([], max_length=32, examples=[["web", "x"]])
    tags: list[Label] = Field([], max_length=32, examples=[["official"]])

    @field_validator("provinces")
    @classmethod
    def _known_provinces(cls, codes: list[str]) -> list[str]:
        known = regions()
        bad = [c for c in codes if c not in known.regencies_by_province]
        if bad:
            raise ValueError(f"unknown province code(s) {', '.join(map(repr, bad))}")
        return codes

    @field_validator("regencies")
    @classmethod
    def _known_regencies(cls, codes: list[str]) -> list[str]:
        known = regions()
        bad = [c for c in codes if c not in known.by_code or c in known.regencies_by_province]
        if bad:
            raise ValueError(f"unknown regency code(s) {', '.join(map(repr, bad))}")
        return codes

    @model_validator(mode="after")
    def _selects_something(self) -> TargetIn:
        if not (self.national or self.provinces or self.regencies or self.zones):
            raise ValueError(
                "target selects no region: set national, provinces, regencies or zones"
            )
        return self

    def regions(self) -> frozenset[str]:
        """The region codes this target selects."""
        return select_regions(
            national=self.national,
            provinces=self.provinces,
            regencies=self.regencies,
            zones=self.zones,
        )


class MediaIn(BaseModel):
    """One picture or video: an http(s) URL the platforms fetch, never an internal address."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(description="http or https URL of the file")
    type: Literal["image", "video"]
    alt: Annotated[NormText, Field(max_length=1000)] | None = None

    @field_validator("url")
    @classmethod
    def _safe(cls, v: HttpUrl) -> HttpUrl:
        if len(str(v)) > 2048:
            raise ValueError("url is longer than 2048 characters")
        if reason := refused_reason(v.host):  # the endpoint rules channels follow
            raise ValueError(f"url refused: {reason}")
        return v


class AnnouncementIn(BaseModel):
    """POST /v1/announcements body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "kominfo-2026-000123",
                    "title": "Kominfo: jadilah humas profesional bermedsos",
                    "body": "Sebagai humas pemerintah yang profesional ...",
                    "summary": "Humas pemerintah diajak aktif dan profesional di media sosial.",
                    "link": "https://example.go.id/berita/123",
                    "category": "pembangunan",
                    "priority": "normal",
                    "hashtags": ["GPR", "Kominfo"],
                    "target": {"provinces": ["73"], "kinds": ["web", "x"]},
                }
            ]
        },
    )

    id: str | None = Field(
        None, pattern=ID_PATTERN, description="Your id; the server makes one if absent."
    )
    title: Title
    body: Body
    summary: NormText | None = Field(None, json_schema_extra={"maxLength": SUMMARY_MAX})
    link: HttpUrl | None = Field(None, description="http or https URL")
    category: Label | None = None
    priority: Priority = Priority.NORMAL
    hashtags: list[str] = Field(
        [],
        max_length=30,
        description="Words without '#'.",
        json_schema_extra={"items": {"type": "string", "pattern": r"^\s*\w{1,100}\s*$"}},
    )
    target: TargetIn
    publish_at: AwareDatetime | None = Field(None, description="Hold deliveries until then.")
    publish_local_time: str | None = Field(
        None,
        description="HH:MM: release each region's deliveries at that local time.",
        json_schema_extra={"pattern": _LOCAL_TIME.pattern},
    )
    expires_at: AwareDatetime | None = Field(None, description="Post nothing after this.")
    media: list[MediaIn] = Field([], max_length=10, description="Pictures and videos.")
    draft: bool = Field(False, description="Store as a draft (201): nothing fans out.")

    @field_validator("title")
    @classmethod
    def _title_length(cls, v: str) -> str:
        return _limit(v, TITLE_MAX)

    @field_validator("body")
    @classmethod
    def _body_length(cls, v: str) -> str:
        return _limit(v, BODY_MAX)

    @field_validator("summary")
    @classmethod
    def _summary_length(cls, v: str | None) -> str | None:
        return _limit(v, SUMMARY_MAX) or None if v is not None else None

    @field_validator("link")
    @classmethod
    def _link(cls, v: HttpUrl | None) -> HttpUrl | None:
        if v is not None and len(str(v)) > 2048:
            raise ValueError("link is longer than 2048 characters")
        return v

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        out = []
        for i, tag in enumerate(tags):
            tag = _normalise(tag)
            if not _HASHTAG.match(tag):
                raise ValueError(
                    f"hashtag {i} ({tag[:40]!r}) must be one word of letters, digits or '_', "
                    "without '#' or spaces"
                )
            out.append(tag)
        return out

    @field_validator("publish_local_time")
    @classmethod
    def _local_time(cls, v: str | None) -> str | None:
        if v is not None and not _LOCAL_TIME.match(v):
            raise ValueError("publish_local_time must be HH:MM in 24-hour time, e.g. '09:00'")
        return v

    @model_validator(mode="after")
    def _times(self) -> AnnouncementIn:
        if self.publish_at and self.expires_at and self.expires_at <= self.publish_at:
            raise ValueError("expires_at must be after publish_at")
        return self

    def to_announcement(self, announcement_id: str) -> Announcement:
        """The normalised announcement as it travels on the announcements topic."""
        t = self.target
        return Announcement(
            id=announcement_id,
            title=self.title,
            body=self.body,
            summary=self.summary,
            link=str(self.link) if self.link else None,
            category=self.category,
            priority=self.priority,
            hashtags=tuple(self.hashtags),
            target=Target(
                national=t.national,
                provinces=tuple(t.provinces),
                regencies=tuple(t.regencies),
                zones=tuple(t.zones),
                kinds=tuple(t.kinds),
                tags=tuple(t.tags),
            ),
            publish_at=self.publish_at,
            publish_local_time=self.publish_local_time,
            expires_at=self.expires_at,
            media=tuple(Media(url=str(m.url), type=m.type, alt=m.alt) for m in self.media),
        )


def _limit(value: str, maximum: int) -> str:
    if len(value) > maximum:
        raise ValueError(f"is {len(value)} characters long; the limit is {maximum}")
    return value


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether an announcement's expiry has already passed."""
    return expires_at is not None and expires_at <= now
