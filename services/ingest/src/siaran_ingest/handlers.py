"""ingest's Kafka subscribers, thin: the inbound topic's submissions into the intake, the
announcements topic's completions into the archive; what cannot be taken is dead-lettered."""

from __future__ import annotations

from typing import Any

from faststream.kafka.annotations import KafkaMessage
from siaran_shared.events.topics import ANNOUNCEMENTS, INBOUND
from siaran_shared.logging import get_logger
from siaran_shared.messaging import dead_letter, subscriber
from siaran_shared.service import Runtime

from siaran_ingest.completion import record_completions
from siaran_ingest.inbound import accept_inbound
from siaran_ingest.intake import Intake

log = get_logger(__name__)


def subscribe(runtime: Runtime, intake: Intake) -> None:
    """Register ingest's subscribers on the runtime's broker."""
    broker, source = runtime.broker, runtime.source

    @subscriber(broker, runtime.settings, INBOUND, max_records=100)
    async def on_inbound(_: Any, msg: KafkaMessage) -> None:
        accepted, poison = await accept_inbound(msg.raw_message, intake, runtime.keyring)
        if poison:
            await dead_letter(broker, source, poison)
        log.info("inbound_batch", accepted=accepted, dead_lettered=len(poison))

    @subscriber(broker, runtime.settings, ANNOUNCEMENTS, max_records=100)
    async def on_announcements(_: Any, msg: KafkaMessage) -> None:
        marked, poison = await record_completions(msg.raw_message, intake.archive.submissions)
        if poison:
            await dead_letter(broker, source, poison)
        if marked or poison:
            log.info("completions", completed=marked, dead_lettered=len(poison))
