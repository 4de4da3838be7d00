"""The contract's error body: as a typed model, as a response, and as the OpenAPI `responses`
entries that document it per status, so every service's OpenAPI names what each route can
answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """One offending field."""

    field: str = Field(examples=["target.provinces"])
    message: str = Field(examples=["unknown province code(s) '99'"])
    type: str | None = Field(None, examples=["value_error"])


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["invalid announcement: check target.provinces"])
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """The contract's error shape, for every 4xx and 5xx."""

    error: ErrorBody


Responses = dict[int | str, dict[str, Any]]

#: The error `code` of each status.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A response in the contract's error shape."""
    body = {
        "error": {
            "code": code or CODES.get(status, "error"),
            "message": message,
            "details": list(details),
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def error_doc(
    description: str, code: str, message: str, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An OpenAPI response entry: the error model with an example, and its headers."""
    example = {"error": {"code": code, "message": message, "details": []}}
    doc: dict[str, Any] = {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": example}},
    }
    if headers:
        doc["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return doc


#: Every `/v1` route: no valid key.
UNAUTHORIZED: Responses = {
    401: error_doc(
        "Missing, malformed or revoked API key",
        "unauthorized",
        "invalid or revoked API key",
        headers={"WWW-Authenticate": "Bearer"},
    )
}


def invalid(what: str) -> Responses:
    """The 422 entry of a route whose `what` (parameters, body) is validated."""
    return {422: error_doc(f"Invalid {what}; one detail per field", "invalid_request",
                           f"invalid request: check {what}")}  # fmt: skip
