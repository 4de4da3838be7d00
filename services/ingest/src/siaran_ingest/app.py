"""ingest: the front door for ministry systems (HTTP and the inbound topic)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import Event
from siaran_shared.events.topics import ANNOUNCEMENTS, INBOUND
from siaran_shared.kafka import Outgoing, dead_letter, publish_all, subscriber
from siaran_shared.logging import get_logger
from siaran_shared.service import Runtime, build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_ingest.api import router
from siaran_ingest.inbound import accept_inbound
from siaran_ingest.submissions import Archive

log = get_logger(__name__)


def build_archive(runtime: Runtime) -> Archive:
    """The archive, publishing accepted and cancelled events on the announcements topic."""

    async def publish(event: Event) -> None:
        key = getattr(event, "announcement_id", None) or event.announcement.id  # type: ignore[attr-defined]
        await publish_all(runtime.broker, runtime.source, [Outgoing(ANNOUNCEMENTS, key, event)])

    collection = runtime.store.collection("announcements", indexes=("accepted_at", "status"))
    return Archive(collection, publish)


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("ingest", settings)
    archive = build_archive(runtime)

    @subscriber(runtime.broker, runtime.settings, INBOUND, max_records=100)
    async def on_inbound(_: Any, msg: KafkaMessage) -> None:
        accepted, poison = await accept_inbound(msg.raw_message, archive, runtime.keyring)
        if poison:
            await dead_letter(runtime.broker, runtime.source, poison)
        log.info("inbound_batch", accepted=accepted, dead_lettered=len(poison))

    app = create_service_app(
        runtime,
        title="Siaran ingest",
        description="Submit, read and cancel government announcements.",
        max_body_bytes=256 * 1024,
    )
    app.state.archive = archive
    app.state.runtime = runtime
    app.include_router(router)
    return app
