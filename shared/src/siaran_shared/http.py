"""The HTTP side every service shares: contract-shaped errors, API key authentication,
health, readiness and Prometheus endpoints, a request size limit and HTTP telemetry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.metrics import NoOpMeterProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from siaran_shared.auth import ApiKey, KeyRing
from siaran_shared.http_middleware import BodyLimit, HttpMetrics
from siaran_shared.logging import get_logger
from siaran_shared.responses import CODES, error_response

log = get_logger(__name__)

ReadyCheck = Callable[[], Awaitable[None]]
#: A dependency that does not answer within this is reported as a problem (not a hang).
READY_TIMEOUT_SECONDS = 3.0


class ApiError(Exception):
    """An error answered as {"error": {"code", "message", "details"}} with a status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = list(details)
        self.headers = headers


#: The methods a 405's `Allow` header may name.
_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """The methods some route answers at this request's path (Starlette's 405 names only those
    of the first route whose path matched). A path written out in full in the OpenAPI
    (`/v1/keys/me`) is its own resource: the methods of a templated path it also fits
    (`/v1/keys/{id}`) are not named for it."""
    path = request.url.path
    literal = request.app.openapi().get("paths", {}).get(path)
    if literal is not None:
        return ", ".join(method for method in _METHODS if method.lower() in literal)
    routes = request.app.router.routes

    def answers(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in routes)

    return ", ".join(method for method in _METHODS if answers(method))


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """One detail per offending field path, e.g. {"field": "target.provinces[0]", ...}."""
    details = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if p != "body"]
        field = ""
        for part in loc:
            field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": field or "body", "message": message, "type": err.get("type")})
    return details


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status, exc.message, code=exc.code, details=exc.details, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        fields = ", ".join(d["field"] for d in details[:5])
        return error_response(422, f"invalid request: check {fields}", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:  # every method the path answers, not the first route's
            headers = (headers or {}) | {"Allow": allowed_methods(request)}
        return error_response(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return error_response(500, "internal error; the request was not processed", code="internal")


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a worker thread,
# a thread hop per request on the hottest path.
async def bearer_key(request: Request) -> ApiKey:
    """The API key of a request, or 401 naming what is wrong."""
    keyring: KeyRing = request.app.state.keyring
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "malformed Authorization header: use 'Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = keyring.verify(token.strip())
    if key is None:
        raise ApiError(401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return key


async def admin_key(key: Annotated[ApiKey, Depends(bearer_key)]) -> ApiKey:
    """The API key of a request, which must have the admin scope."""
    if not key.parsed_scope.is_admin:
        raise ApiError(403, f"this endpoint needs an admin key; key {key.name!r} is {key.scope}")
    return key


AuthKey = Annotated[ApiKey, Depends(bearer_key)]
AdminKey = Annotated[ApiKey, Depends(admin_key)]


def create_http_app(
    *,
    service: str,
    title: str,
    description: str,
    keyring: KeyRing,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    ready_checks: dict[str, ReadyCheck],
    live_problems: Callable[[], Mapping[str, str]] = dict,
    max_body_bytes: int = 1 << 20,
) -> FastAPI:
    """A FastAPI app with the endpoints and behaviour every Siaran service shares."""
    # FastAPI's own telemetry off: with the process's providers configured it instrumented
    # every request a second time (a server span, spans for dependencies and the endpoint,
    # http.server.* metrics) beside the ASGI middleware below and HttpMetrics.
    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )  # fmt: skip
    app.state.keyring = keyring
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(HttpMetrics, service=service)
    # The plain ASGI instrumentation, not FastAPIInstrumentor: the latter walks every route on
    # each request to name the span (a tenth of ingest's CPU in the profile). HttpMetrics names
    # the span after the matched route template instead; no spans per receive/send message.
    # Its http.server.* metrics go nowhere: HttpMetrics counts requests (siaran_http_*, what
    # the dashboards read), and the duplicates cost every request three more recordings.
    app.add_middleware(
        OpenTelemetryMiddleware,
        meter_provider=NoOpMeterProvider(),
        excluded_urls="healthz,readyz,metrics",
        default_span_details=lambda scope: (scope.get("method", "HTTP"), {}),
        exclude_spans=["receive", "send"],
    )
    _add_operations(app, service, ready_checks, live_problems)
    return app


def _add_operations(
    app: FastAPI,
    service: str,
    ready_checks: dict[str, ReadyCheck],
    live_problems: Callable[[], Mapping[str, str]],
) -> None:
    """/healthz, /readyz and /metrics: what probes and Prometheus call."""

    @app.get("/healthz", tags=["operations"], summary="Alive: its consumers and loops run",
             responses={503: {"description": "a consumer or background loop ended"}})  # fmt: skip
    async def healthz() -> JSONResponse:
        return _answer(service, "ok", live_problems())

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Broker and store are reachable",
        responses={503: {"description": "the broker or the store does not answer"}},
    )
    async def readyz() -> JSONResponse:
        async def run(check: ReadyCheck) -> str | None:
            try:
                await asyncio.wait_for(check(), READY_TIMEOUT_SECONDS)
            except TimeoutError:
                return f"no answer within {READY_TIMEOUT_SECONDS:.0f}s"
            except Exception as exc:  # any failure means not ready; say which
                return str(exc)[:300] or type(exc).__name__
            return None

        answers = await asyncio.gather(*(run(check) for check in ready_checks.values()))
        problems = {n: a for n, a in zip(ready_checks, answers, strict=True) if a is not None}
        return _answer(service, "ready", problems)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"description": "Prometheus text format",
                         "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _answer(service: str, good: str, problems: Mapping[str, str]) -> JSONResponse:
    """A health answer: `good`, or 503 naming each problem."""
    if problems:
        body = {"status": "unavailable", "service": service, "problems": dict(problems)}
        return JSONResponse(body, 503)
    return JSONResponse({"status": good, "service": service})
