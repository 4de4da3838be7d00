"""console: the web interface on top of the ingest, router and metrics APIs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from siaran_shared.http_middleware import BodyLimit, HttpMetrics
from siaran_shared.logging import configure_logging, get_logger
from siaran_shared.settings import Environment, Settings
from siaran_shared.telemetry import setup_telemetry, shutdown_telemetry
from starlette.exceptions import HTTPException as StarletteHTTPException

from siaran_console.backends import ApiProblem, Backends, Service
from siaran_console.config import console_settings
from siaran_console.i18n import compile_all
from siaran_console.pages import (
    account,
    admin,
    announcements,
    approvals,
    channels,
    compose,
    corrections,
    coverage,
    live,
)
from siaran_console.security import SecurityHeaders
from siaran_console.sessions import Sessions
from siaran_console.web import (
    MAX_FORM_BYTES,
    Console,
    CsrfRefused,
    SignInNeeded,
    console_of,
    problem_page,
    redirect,
    render,
    template_environment,
)

log = get_logger(__name__)


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The console app; `transport` lets tests answer for the other services."""
    config = console_settings(settings)
    configure_logging(config)
    # httpx logs every request at INFO: with live pages that is a line per second per viewer.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    setup_telemetry("console")
    compile_all()
    console = Console(
        settings=config,
        sessions=Sessions(
            lifetime=config.console_session_seconds,
            idle=config.console_idle_seconds,
            max_sessions=config.console_max_sessions,
        ),
        backends=Backends(config, transport),
        templates=template_environment(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("service_started", port=config.http_port, ingest=str(config.console_ingest_url))
        try:
            yield
        finally:
            await console.backends.close()
            shutdown_telemetry()
            log.info("service_stopped")

    app = FastAPI(
        title="Siaran console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.console = console
    _install_operations(app)
    _install_error_pages(app)
    modules = (
        account,
        announcements,
        corrections,
        approvals,
        compose,
        live,
        channels,
        coverage,
        admin,
    )
    for module in modules:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("siaran_console", "static")]), name="static")
    app.add_middleware(BodyLimit, max_bytes=MAX_FORM_BYTES)
    app.add_middleware(HttpMetrics, service="console")
    app.add_middleware(SecurityHeaders, hsts=config.env is Environment.PRODUCTION)
    return app


def _install_operations(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "console"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready when ingest, router and metrics answer their /healthz."""
        backends = console_of(request).backends

        async def probe(name: Service) -> str | None:
            try:
                response = await backends.client(name).get("/healthz", timeout=3.0)
            except httpx.HTTPError as exc:
                return type(exc).__name__
            return None if response.status_code == 200 else f"answered {response.status_code}"

        names: tuple[Service, ...] = ("ingest", "router", "metrics")
        answers = await asyncio.gather(*(probe(n) for n in names))
        problems = {n: a for n, a in zip(names, answers, strict=True) if a}
        status = "unavailable" if problems else "ready"
        body = {"status": status, "service": "console"} | (
            {"problems": problems} if problems else {}
        )
        return JSONResponse(body, 503 if problems else 200)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded) -> Response:
        if request.method == "GET" and not request.url.path.startswith("/events"):
            return redirect(request, f"/signin?next={request.url.path}")
        return redirect(request, "/signin")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused) -> Response:
        log.warning("csrf_refused", path=request.url.path)
        return render(request, "error.html", 403, csrf=True)

    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, problem: ApiProblem) -> Response:
        return problem_page(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return problem_page(request, ApiProblem(exc.status_code, str(exc.detail)))
