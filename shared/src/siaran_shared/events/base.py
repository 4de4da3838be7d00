"""What every event shares: the base model with its schema version, and the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: immutable, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: CloudEvents `type` of this event (reverse-DNS, versioned).
    event_type: ClassVar[str] = ""
    schema_version: Literal[1] = Field(1, description="Version of this event's schema.")
