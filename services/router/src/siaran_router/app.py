"""router: the channel registry, targeting, rendering, scheduling and fan-out."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence

from fastapi import FastAPI
from siaran_shared.events import (
    ChannelConfigured,
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
)
from siaran_shared.events.topics import CHANNELS, DELIVERIES, PLANS, RESULTS
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Outgoing, publish_all
from siaran_shared.retention import prune_in_background
from siaran_shared.service import Runtime, build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_router.api import router
from siaran_router.channels import ENDPOINT_ALLOWLIST
from siaran_router.fallbacks import Fallbacks
from siaran_router.fanout import Emit, Fanout
from siaran_router.handlers import subscribe
from siaran_router.health import HealthReports
from siaran_router.outbox import Batches
from siaran_router.plans import Plans
from siaran_router.preview_api import router as previews
from siaran_router.registry import Registry
from siaran_router.registry_changes import RegistryChanges
from siaran_router.release import Releaser

log = get_logger(__name__)
#: Bulk imports of the whole national registry (tens of thousands of rows) fit.
MAX_BODY_BYTES = 32 << 20


def _emitter(runtime: Runtime) -> Emit:
    """Produces tasks (keyed by channel), their plan summaries and outcomes (keyed by
    announcement) together: metrics counts the summaries, never reads the tasks."""

    async def emit(tasks: Sequence[DeliveryPlanned], outcomes: Sequence[DeliveryCompleted]) -> None:
        await publish_all(
            runtime.broker,
            runtime.source,
            [
                *(Outgoing(DELIVERIES, t.channel_id, t) for t in tasks),
                *(Outgoing(PLANS, s.announcement_id, s) for s in DeliveriesPlanned.of(tasks)),
                *(Outgoing(RESULTS, o.announcement_id, o) for o in outcomes),
            ],
        )

    return emit


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("router", settings)
    ENDPOINT_ALLOWLIST.clear()
    ENDPOINT_ALLOWLIST.update(runtime.settings.endpoint_allowlist)
    broker, source, store = runtime.broker, runtime.source, runtime.store
    registry = Registry(store.collection("channels", indexes=("region",)))

    async def announce(changes: Sequence[tuple[str, ChannelConfigured | None]]) -> None:
        await publish_all(broker, source, (Outgoing(CHANNELS, k, e) for k, e in changes))

    emit = _emitter(runtime)
    health = HealthReports(store.collection("channel_health"))
    channels = RegistryChanges(registry, health, announce)
    retention = prune_in_background(runtime)
    batches = Batches(
        store.collection(
            "release_batches",
            indexes=("status", "due", "announcement_id"),
            expiry=retention.keep("batches"),
        ),
        store.collection("release_tasks", expiry=retention.keep("batches")),
    )
    owner = f"{socket.gethostname()}:{os.getpid()}"
    releaser = Releaser(batches, emit, registry.get, owner=owner)
    plans = Plans(
        store.collection(
            "plans", indexes=("status",), expiry=retention.keep("plans", "accepted_at")
        )
    )
    fanout = Fanout(registry, plans, releaser, emit)
    fallbacks = Fallbacks(registry, plans, releaser, fanout.stop)

    async def load_registry() -> None:
        log.info("registry_loaded", channels=await registry.load())

    runtime.on_start.append(load_registry)
    runtime.run_in_background("releaser", releaser.run)

    subscribe(runtime, registry, fanout, fallbacks, health)

    app = create_service_app(
        runtime,
        title="Siaran router",
        description="The channel registry of every regional office; fan-out of announcements.",
        max_body_bytes=MAX_BODY_BYTES,
    )
    app.state.channels = channels
    app.state.releaser = releaser
    app.state.runtime = runtime
    app.include_router(router)
    app.include_router(previews)
    return app
