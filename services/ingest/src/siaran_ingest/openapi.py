"""The OpenAPI document: the request body is read by hand (JSON or CAP XML), so the schemas
of both are added to the components here, where the operation's requestBody refers to them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from siaran_ingest.cap_schema import cap_alert_schema
from siaran_ingest.schema import AnnouncementIn


def install_openapi(app: FastAPI) -> None:
    """Make app.openapi() include AnnouncementIn (and the models it refers to) and CapAlert."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schema = AnnouncementIn.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas["AnnouncementIn"] = schema
        schemas["CapAlert"] = cap_alert_schema()
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
