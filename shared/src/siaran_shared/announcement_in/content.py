"""The part of a submitted announcement that decides what is rendered and where it goes:
title, body, summary, link, hashtags, target and media, with their limits (documented in
the README): title ≤ 200, summary ≤ 500, body ≤ 20,000 characters after Unicode NFC
normalisation and trimming; link http(s) only, ≤ 2,048 characters; at most 30 hashtags of
≤ 100 word characters without '#'; at most 10 media (http(s) URLs, never link-local or
metadata addresses)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from siaran_shared.announcement_in.fields import (
    BODY_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
    Body,
    MediaIn,
    NormText,
    Title,
    limit,
    normalise,
)
from siaran_shared.announcement_in.targets import TargetIn
from siaran_shared.events import Media, Target

_HASHTAG = re.compile(r"^\w{1,100}$")


class ContentIn(BaseModel):
    """Title, text, link, hashtags, target and media of a submitted announcement."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body
    summary: NormText | None = Field(None, json_schema_extra={"maxLength": SUMMARY_MAX})
    link: HttpUrl | None = Field(None, description="http or https URL")
    hashtags: list[str] = Field(
        [],
        max_length=30,
        description="Words without '#'.",
        json_schema_extra={"items": {"type": "string", "pattern": r"^\s*\w{1,100}\s*$"}},
    )
    target: TargetIn
    media: list[MediaIn] = Field([], max_length=10, description="Pictures and videos.")

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

    def content(self) -> dict[str, Any]:
        """These fields as the normalised Announcement's (keyword arguments)."""
        t = self.target
        return {
            "title": self.title,
            "body": self.body,
            "summary": self.summary,
            "link": str(self.link) if self.link else None,
            "hashtags": tuple(self.hashtags),
            "target": Target(
                national=t.national,
                provinces=tuple(t.provinces),
                regencies=tuple(t.regencies),
                zones=tuple(t.zones),
                kinds=tuple(t.kinds),
                tags=tuple(t.tags),
            ),
            "media": tuple(Media(url=str(m.url), type=m.type, alt=m.alt) for m in self.media),
        }
