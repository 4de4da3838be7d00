"""ingest: the front door for ministry systems (HTTP and the inbound topic)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import FastAPI
from siaran_shared.events import Event
from siaran_shared.events.topics import ANNOUNCEMENTS
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Outgoing, publish_all
from siaran_shared.retention import RetentionSettings, prune_in_background
from siaran_shared.service import Runtime, build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_ingest.api import router
from siaran_ingest.archive import Archive, Publish
from siaran_ingest.config import IngestConfig
from siaran_ingest.corrections import Revisions
from siaran_ingest.handlers import subscribe
from siaran_ingest.intake import Intake
from siaran_ingest.keys_api import router as keys_router
from siaran_ingest.openapi import install_openapi
from siaran_ingest.ratelimit import RateLimiter
from siaran_ingest.submissions import Submissions
from siaran_ingest.whoami import router as whoami_router
from siaran_ingest.workflow_api import router as workflow_router

log = get_logger(__name__)

#: Seconds between sweeps for submissions a crashed replica left unpublished.
SWEEP_INTERVAL = 10.0


def build_archive(
    runtime: Runtime, config: IngestConfig, wrap_publish: Callable[[Publish], Publish] | None
) -> Archive:
    """The archive, publishing accepted and cancelled events on the announcements topic
    (through `wrap_publish`, a test's fault injector, when given)."""

    async def publish(event: Event) -> None:
        key = getattr(event, "announcement_id", None) or event.announcement.id  # type: ignore[attr-defined]
        await publish_all(runtime.broker, runtime.source, [Outgoing(ANNOUNCEMENTS, key, event)])

    collection = runtime.store.collection(
        "announcements",
        indexes=("accepted_at", "status", "order_key", "reach_province", "reach_regency"),
        expiry=RetentionSettings().keep("archive", "accepted_at"),
    )
    return Archive(
        Submissions(collection),
        wrap_publish(publish) if wrap_publish else publish,
        publish_timeout=config.publish_timeout_s,
    )


def create_app(
    settings: Settings | None = None,
    config: IngestConfig | None = None,
    *,
    wrap_publish: Callable[[Publish], Publish] | None = None,
) -> FastAPI:
    runtime = build_runtime("ingest", settings)
    config = config or IngestConfig()
    intake = Intake(
        build_archive(runtime, config, wrap_publish), max_cap_bytes=config.max_body_bytes
    )
    prune_in_background(runtime)

    async def sweep_pending() -> None:
        try:
            if upgraded := await intake.archive.submissions.upgrade():
                log.info("archive_upgraded", records=upgraded)
        except Exception:  # the store is down: the listing misses old records until restart
            log.exception("archive_upgrade_failed")
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                if published := await intake.archive.sweep():
                    log.warning("pending_submissions_published", count=published)
            except Exception:  # the broker or store is down: the next round tries again
                log.exception("pending_sweep_failed")

    runtime.run_in_background("pending_sweep", sweep_pending)

    subscribe(runtime, intake)

    app = create_service_app(
        runtime,
        title="Siaran ingest",
        description=(
            "Submit, draft, approve, correct, list, read and cancel government announcements. "
            "Every `/v1` call needs "
            "`Authorization: Bearer <api key>`; errors are "
            '`{"error": {"code", "message", "details": [{"field", "message"}]}}`.'
        ),
        max_body_bytes=config.max_body_bytes,
    )
    app.state.intake = intake
    app.state.revisions = Revisions(intake.archive)
    app.state.rate_limiter = RateLimiter(config.rate_per_second, config.rate_burst)
    app.state.runtime = runtime
    app.include_router(router)
    app.include_router(workflow_router)
    app.include_router(whoami_router)  # GET /v1/keys/me before /v1/keys/{id}
    app.include_router(keys_router)
    install_openapi(app)
    return app
