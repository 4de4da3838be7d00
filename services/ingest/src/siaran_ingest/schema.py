"""The announcement a ministry system submits, validated field by field.

The content (title, body, summary, link, hashtags, target, media) and its limits are
`siaran_shared.announcement_in.ContentIn`, which the router's preview checks the same way.
Here: ids of 1–128 characters from letters, digits, '.', '_' and '-'; times; a completion
callback (an http(s) URL under the media's rules, signed with a secret given by NAME);
fallback kinds, a non-empty list.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from siaran_shared.announcement_in import ContentIn
from siaran_shared.announcement_in.fields import SECRET_NAME, FallbackIn, Label, SafeUrl
from siaran_shared.events import Announcement, Fallback, Priority

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class AnnouncementIn(ContentIn):
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
    category: Label | None = None
    priority: Priority = Priority.NORMAL
    publish_at: AwareDatetime | None = Field(None, description="Hold deliveries until then.")
    publish_local_time: str | None = Field(
        None,
        description="HH:MM: release each region's deliveries at that local time.",
        json_schema_extra={"pattern": _LOCAL_TIME.pattern},
    )
    expires_at: AwareDatetime | None = Field(None, description="Post nothing after this.")
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
        return Announcement(
            id=announcement_id,
            **self.content(),
            category=self.category,
            priority=self.priority,
            publish_at=self.publish_at,
            publish_local_time=self.publish_local_time,
            expires_at=self.expires_at,
            callback_url=str(self.callback_url) if self.callback_url else None,
            callback_secret=self.callback_secret,
            fallback=Fallback(kinds=tuple(self.fallback.kinds)) if self.fallback else None,
        )


def is_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether an announcement's expiry has already passed."""
    return expires_at is not None and expires_at <= now
