"""The contract's error body and the router's preview answer, for the fake APIs."""

from __future__ import annotations

from typing import Any

import httpx


def error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> httpx.Response:
    body = {"error": {"code": "x", "message": message, "details": details or []}}
    return httpx.Response(status, json=body)


def preview_answer(body: dict[str, Any]) -> httpx.Response:
    """The router's POST /v1/previews answer for a body: x cut at 280, web whole."""
    if not body.get("title"):
        return error(422, "invalid preview: check title",
                     [{"field": "title", "message": "Field required"}])  # fmt: skip
    text = f"{body['title']}\n\n{body.get('body', '')}"
    x = text[:280]
    return httpx.Response(200, json={
        "channels": 2, "regions": 1,
        "by_kind": {
            "x": {"channels": 1, "text": x, "length": len(x), "limit": 280,
                  "unit": "weighted characters", "truncated": len(text) > 280},
            "web": {"channels": 1, "text": text, "length": len(text), "limit": None,
                    "unit": "characters", "truncated": False},
        },
        "warnings": [{"code": "media_required", "kind": "instagram", "channels": 3,
                      "skipped": 2}],
    })  # fmt: skip
