"""What metrics' HTTP API answers, as typed models (their OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

#: Times as the ledger stores them: ISO 8601 with the UTC offset.
IsoTime = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str)]


class Counts(BaseModel):
    """An announcement's deliveries per outcome; `planned` counts them all."""

    id: str = Field(description="The announcement id.")
    planned: int
    delivered: int
    failed: int
    pending: int
    cancelled: int
    expired: int
    skipped: int


class Latency(BaseModel):
    """Seconds from acceptance to delivery."""

    p50: float
    p90: float
    p99: float
    max: float


class Fallbacks(BaseModel):
    """Deliveries that replaced a permanently failed one (a fallback kind of its region)."""

    planned: int
    delivered: int


class Report(Counts):
    """The delivery report of one announcement (the contract's fields first)."""

    regions_targeted: int
    regions_reached: int
    regions_without_delivery: list[str] = Field(description="At most 1,000 region codes.")
    by_kind: dict[str, dict[str, int]] = Field(
        description="Per channel kind: deliveries per outcome (non-zero ones) and `total`."
    )
    by_province: dict[str, dict[str, int]] = Field(
        description="Per province code (ID: national channels), as by_kind."
    )
    first_delivered_at: IsoTime | None
    last_delivered_at: IsoTime | None
    latency_seconds: Latency | None
    accepted_at: IsoTime | None
    title: str | None
    announcement_cancelled: bool
    complete: bool = Field(description="Every planned delivery has an outcome.")
    revision: int = Field(1, description="The revision counted: each delivery's latest.")
    fallbacks: Fallbacks = Field(
        default_factory=lambda: Fallbacks(planned=0, delivered=0),
        description="Deliveries to fallback kinds.",
    )


class DeliveryItem(BaseModel):
    """One delivery of an announcement, at its latest revision."""

    delivery_id: str
    channel_id: str
    region: str
    kind: str
    status: str = Field(description="pending until an outcome arrives, then the outcome's.")
    reason: str | None = Field(description="The channel's answer, summarised (no secrets).")
    attempts: int | None
    delivered_at: IsoTime | None
    province: str
    revision: int = Field(description="The announcement revision this delivery is at.")
    post_id: str | None = Field(description="The platform's id of the post, where it has one.")
    fallback_of: str | None = Field(description="The failed delivery this one replaced.")


class DeliveryPage(BaseModel):
    items: list[DeliveryItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class Summary(Counts):
    """One line of the recent announcements: the announcement and its totals."""

    title: str | None
    priority: str | None
    accepted_at: IsoTime | None
    regions_targeted: int
    announcement_cancelled: bool
    complete: bool


class Recent(BaseModel):
    since: IsoTime
    items: list[Summary]


class RegionCoverage(BaseModel):
    name: str
    kinds: dict[str, int] = Field(description="Active channels per kind.")


class Region(BaseModel):
    code: str
    name: str


class ChannelRef(BaseModel):
    id: str
    region: str
    kind: str


class Coverage(BaseModel):
    """Active channels per region and kind, the regions with none, channels needing care;
    only of the regions inside the reader's scope."""

    regions_total: int
    regions_covered: int
    channels_active: int
    regions: dict[str, RegionCoverage]
    regions_without_channels: list[Region]
    needs_reconnect: list[ChannelRef]
