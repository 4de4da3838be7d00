"""What the registry API answers: typed, so its OpenAPI document says so, and the error
answers each route can give, in the contract's error shape (`siaran_shared.responses`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer
from siaran_shared.events import Channel, ChannelHealth
from siaran_shared.responses import Responses, error_doc

from siaran_router.health import HealthReport


class HealthView(BaseModel):
    """The channel's delivery health as the publisher last reported it."""

    state: str = Field(
        description="unknown (nothing reported yet) or the publisher's state: "
        + ", ".join(ChannelHealth),
        examples=["healthy"],
    )
    reason: str | None = Field(None, description="Last error summary; never a secret.")
    consecutive_failures: int | None = None
    changed_at: str | None = Field(None, description="When the state last changed (ISO 8601).")

    @classmethod
    def of(cls, report: HealthReport) -> HealthView:
        return cls(
            state=report.state.value,
            reason=report.reason,
            consecutive_failures=report.consecutive_failures,
            changed_at=report.changed_at.isoformat(),
        )

    @model_serializer(mode="wrap")
    def _unknown_alone(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a channel nothing was reported for answers {"state": "unknown"}, nothing more
        dumped: dict[str, Any] = handler(self)
        return {"state": self.state} if self.state == UNKNOWN_STATE else dumped


UNKNOWN_STATE = "unknown"
UNKNOWN = HealthView(state=UNKNOWN_STATE)


class ChannelView(Channel):
    """A channel of the registry and its delivery health."""

    health: HealthView = UNKNOWN

    @classmethod
    def of(cls, channel: Channel, report: HealthReport | None = None) -> ChannelView:
        return cls(**dict(channel), health=UNKNOWN if report is None else HealthView.of(report))


class ChannelList(BaseModel):
    total: int = Field(description="Channels matching the filters (all pages).")
    items: list[ChannelView]


class ImportUpdate(BaseModel):
    id: str
    fields: list[str] = Field(description="The fields whose value changes.")


class ImportSummary(BaseModel):
    """What an import changed (or, with dry_run, would change)."""

    dry_run: bool
    rows: int
    created: list[str]
    updated: list[ImportUpdate]
    unchanged: int
    removed: list[str]


ADMIN_ONLY: Responses = {
    401: error_doc("Missing, malformed or revoked API key", "unauthorized",
                "invalid or revoked API key"),
    403: error_doc("The key is not an admin key", "forbidden",
                "this endpoint needs an admin key; key 'sulsel' is province:73"),
}  # fmt: skip
REGION_SCOPED: Responses = {
    401: ADMIN_ONLY[401],
    403: error_doc("The key is neither admin nor a province or regency key, or the channel's "
                   "region lies outside its scope", "forbidden",
                   "region '31.71' is outside the scope of key 'sulsel' (province:73)"),
}  # fmt: skip
INVALID: Responses = {422: error_doc("Invalid input; one detail per field path", "invalid_request",
                       "invalid request: check endpoint")}  # fmt: skip
BAD_BODY: Responses = {400: error_doc("The body is not JSON", "bad_request",
                                       "There was an error parsing the body")}  # fmt: skip
TOO_LARGE: Responses = {413: error_doc("Body over the size limit", "payload_too_large",
                         "request body is larger than the limit")}  # fmt: skip
NOT_FOUND: Responses = {404: error_doc("No such channel", "not_found", "no channel 'bantaeng-web'")}
