"""The contract's error shape as OpenAPI models, for the responses a route documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: FastAPI's `responses=` argument: status -> model, description, example.
Responses = dict[int | str, dict[str, Any]]


class ErrorDetail(BaseModel):
    field: str = Field(examples=["target.provinces"])
    message: str = Field(examples=["unknown province code(s) '99'"])
    type: str | None = Field(None, examples=["value_error"])


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["invalid request: check target.provinces"])
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    """The contract's error shape, for every 4xx and 5xx."""

    error: ErrorBody


def error_doc(description: str, code: str, message: str) -> dict[str, Any]:
    """One documented error answer: the model, what it means and an example."""
    example = {"error": {"code": code, "message": message, "details": []}}
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": example}},
    }
