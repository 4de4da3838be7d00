"""publisher: posts every delivery task to its channel, once, and reports the outcome."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned
from siaran_shared.events.topics import DELIVERIES, RESULTS
from siaran_shared.kafka import Outgoing, dead_letter, decode, publish_all, subscriber
from siaran_shared.logging import get_logger
from siaran_shared.service import build_runtime, create_service_app
from siaran_shared.settings import Settings

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.claims import Claims
from siaran_publisher.deliver import Deliverer
from siaran_publisher.secrets import Secrets
from siaran_publisher.webhook import WebhookSender

log = get_logger(__name__)

#: Deliveries worked on at once by one instance.
MAX_IN_FLIGHT = 64


def create_app(settings: Settings | None = None) -> FastAPI:
    runtime = build_runtime("publisher", settings)
    broker, source = runtime.broker, runtime.source
    owner = f"{socket.gethostname()}:{os.getpid()}"
    webhooks = WebhookSender()
    deliverer = Deliverer(
        claims=Claims(runtime.store.collection("deliveries"), owner, timedelta(minutes=2)),
        secrets=Secrets(runtime.settings.secrets_dir),
        webhooks=webhooks,
        apprise=AppriseSender(),
    )
    limit = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def one(task: DeliveryPlanned) -> DeliveryCompleted | None:
        async with limit:
            return await deliverer.deliver(task)

    @subscriber(broker, runtime.settings, DELIVERIES)
    async def on_deliveries(_: Any, msg: KafkaMessage) -> None:
        records, poison = decode(msg.raw_message, DeliveryPlanned)
        outcomes = await asyncio.gather(*(one(r.event) for r in records))
        done = [o for o in outcomes if o is not None]
        await publish_all(broker, source, (Outgoing(RESULTS, o.announcement_id, o) for o in done))
        if poison:
            await dead_letter(broker, source, poison)

    runtime.on_start.append(webhooks.start)
    runtime.on_stop.append(webhooks.close)
    app = create_service_app(
        runtime,
        title="Siaran publisher",
        description="Posts deliveries to webhooks and Apprise channels; health and metrics.",
    )
    app.state.runtime = runtime
    return app
