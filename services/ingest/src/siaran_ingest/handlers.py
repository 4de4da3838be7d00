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


#: How long a fetch may wait for more records: what an inbound submission may wait at most
#: before ingest reads it, beyond the broker's own delay.
GATHER_MS = 100


def subscribe(runtime: Runtime, intake: Intake) -> None:
    """Register ingest's subscribers on the runtime's broker."""
    broker, source = runtime.broker, runtime.source

    # One consumer for both topics: a second member of the group would make the first
    # rebalance when it joins (about 5 s at every start, before ingest is ready). Its fetches
    # gather for up to GATHER_MS: every announcement ingest accepts comes back to it on the
    # announcements topic, and fetched one at a time (with a commit each) they cost the broker
    # and ingest more CPU than the request that produced them (bench/README.md, "Ingest").
    @subscriber(
        broker, runtime.settings, INBOUND, ANNOUNCEMENTS, max_records=100, gather_ms=GATHER_MS
    )
    async def on_records(_: Any, msg: KafkaMessage) -> None:
        raws = msg.raw_message
        inbound = [r for r in raws if r.topic == INBOUND]
        if inbound:
            accepted, poison = await accept_inbound(inbound, intake, runtime.keyring)
            if poison:
                await dead_letter(broker, source, poison)
            log.info("inbound_batch", accepted=accepted, dead_lettered=len(poison))
        announcements = [r for r in raws if r.topic == ANNOUNCEMENTS]
        if announcements:
            marked, poison = await record_completions(announcements,
                                                      intake.archive.submissions)  # fmt: skip
            if poison:
                await dead_letter(broker, source, poison)
            if marked or poison:
                log.info("completions", completed=marked, dead_lettered=len(poison))
