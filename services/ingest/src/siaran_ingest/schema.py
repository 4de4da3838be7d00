"""The announcement a ministry system submits, validated field by field.

Limits (documented in the README): title ≤ 200, summary ≤ 500, body ≤ 20,000 characters,
after Unicode NFC normalisation and trimming; link http(s) only, ≤ 2,048 characters;
at most 30 hashtags of ≤ 100 word characters without '#'; at most 10 media (http(s)
URLs, never link-local or metadata addresses); ids of 1–128 characters
from letters, digits, '.', '_' and '-'. A completion callback is an http(s) URL under the
same rules, signed with a secret given by NAME; fallback kinds are a non-empty list.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
    model_validator,
)
from siaran_shared.events import Announcement, Fallback, Media, Priority, Target

from siaran_ingest.fields import (
    BODY_MAX,
    SECRET_NAME,
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
    Body,
    FallbackIn,
    Label,
    MediaIn,
    NormText,
    SafeUrl,
    Title,
    limit,
    normalise,
)
from siaran_ingest.targets import TargetIn

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_HASHTAG = re.compile(r"^\w{1,100}$")
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


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
    callback_url: SafeUrl | None = Field(
        None,
        description="http(s) URL that receives one signed CloudEvent "
        "id.siaran.announcement.completed.v1 when every delivery is final.",
    )
    callback_secret: str | None = Field(
        None,
        pattern=SECRET_NAME,
        description="NAME of the secret that signs the callback (never the value itself).",
    )
    fallback: FallbackIn | None = Field(
        None, description="Kinds a region's channels fall back to when one fails permanently."
    )
    draft: bool = Field(False, description="Store as a draft (201): nothing fans out.")

    @field_validator("title")
    @classmethod
    def _title_length(cls, v: str) -> str:
        return limit(v, TITLE_MAX)

    @field_validator("body")
    @classmethod
    def _body_length(cls, v: str) -> str:
        return limit(v, BODY_MAX)

    @field_validator("summary")
    @classmethod
    def _summary_length(cls, v: str | None) -> str | None:
        return limit(v, SUMMARY_MAX) or None if v is not None else None

    @field_validator("link")
    @classmethod
    def _link(cls, v: HttpUrl | None) -> HttpUrl | None:
        if v is not None and len(str(v)) > URL_MAX:
            raise ValueError(f"link is longer than {URL_MAX} characters")
        return v

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        out = []
        for i, tag in enumerate(tags):
            tag = normalise(tag)
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

    @field_validator("callback_secret")
    @classmethod
    def _secret_with_callback(cls, v: str | None, info: ValidationInfo) -> str | None:
        # an invalid callback_url is absent from info.data and reported on its own
        if v is not None and info.data.get("callback_url", "") is None:
            raise ValueError("names the secret of a callback_url; give callback_url too")
        return v

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
            callback_url=str(self.callback_url) if self.callback_url else None,
            callback_secret=self.callback_secret,
            fallback=Fallback(kinds=tuple(self.fallback.kinds)) if self.fallback else None,
        )


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether an announcement's expiry has already passed."""
    return expires_at is not None and expires_at <= now
