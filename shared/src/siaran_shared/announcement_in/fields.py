"""The field types an announcement is built from: normalised text, labels, media, the
completion callback and the fallback kinds. Web addresses follow the endpoint rules channels
follow (`siaran_shared.netguard`): http(s) only, never link-local or metadata addresses."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)

from siaran_shared.netguard import refused_reason

TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 20_000
URL_MAX = 2048
#: A secret is named, never given: the value lives in SIARAN_SECRETS_DIR/NAME (as for channels).
SECRET_NAME = r"^[A-Za-z0-9_]{1,64}$"  # noqa: S105 - a pattern for names, not a secret


def normalise(text: str) -> str:
    """NFC-normalised and trimmed."""
    return unicodedata.normalize("NFC", text).strip()


def _non_blank(text: str) -> str:
    if not text:
        raise ValueError("must not be empty or only whitespace")
    return text


def limit(value: str, maximum: int) -> str:
    """The value, if it is at most `maximum` characters long."""
    if len(value) > maximum:
        raise ValueError(f"is {len(value)} characters long; the limit is {maximum}")
    return value


#: What the OpenAPI says of text that must not be blank: a character that is not whitespace
#: (in Python's terms, which the code strips; an OpenAPI tester matches with Python's re too).
NON_BLANK = r"\S"

NormText = Annotated[str, AfterValidator(normalise)]
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


def safe_url(url: HttpUrl) -> HttpUrl:
    """An http(s) URL Siaran may fetch or call: not too long, no credentials in it, and not
    aimed at a link-local or metadata address."""
    if len(str(url)) > URL_MAX:
        raise ValueError(f"url is longer than {URL_MAX} characters")
    if url.username or url.password:
        raise ValueError("url must not carry credentials; name a secret instead")
    if reason := refused_reason(url.host):  # the endpoint rules channels follow
        raise ValueError(f"url refused: {reason}")
    return url


SafeUrl = Annotated[HttpUrl, AfterValidator(safe_url)]


class MediaIn(BaseModel):
    """One picture or video: an http(s) URL the platforms fetch, never an internal address."""

    model_config = ConfigDict(extra="forbid")

    url: SafeUrl = Field(description="http or https URL of the file")
    type: Literal["image", "video"]
    alt: Annotated[NormText, Field(max_length=1000)] | None = None


class FallbackIn(BaseModel):
    """Where a region's announcement goes when one of its channels fails permanently."""

    model_config = ConfigDict(extra="forbid")

    kinds: list[Label] = Field(
        min_length=1,
        max_length=32,
        examples=[["sms", "whatsapp"]],
        description="Kinds of the same region's channels that get it instead, once.",
    )

    @field_validator("kinds")
    @classmethod
    def _once_each(cls, kinds: list[str]) -> list[str]:
        return list(dict.fromkeys(kinds))
