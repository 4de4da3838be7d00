"""Dead-lettering: poison records to `siaran.dlq.v1` with their original bytes and headers
(less credentials), the reason and where they came from; never a crash or a silent drop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from siaran_shared.events import utcnow
from siaran_shared.events.topics import DLQ
from siaran_shared.logging import get_logger
from siaran_shared.messaging.decoding import Poison
from siaran_shared.messaging.headers import decode_headers, is_sensitive
from siaran_shared.metric_names import DLQ as DLQ_METRIC
from siaran_shared.telemetry import counter

log = get_logger(__name__)


async def dead_letter(broker: KafkaBroker, source: str, poison: Sequence[Poison]) -> None:
    """Send poison records to the DLQ with their original bytes, headers (less those that
    may carry credentials: `is_sensitive`) and the reason."""
    futures = []
    dlq_total = counter(DLQ_METRIC)
    for p in poison:
        dlq_total.add(
            1, {"service": source.removeprefix("siaran/"), "reason": reason_kind(p.reason)}
        )
        headers = {k: v for k, v in decode_headers(p.raw).items() if not is_sensitive(k)}
        headers.update(
            {
                "siaran-error": p.reason[:1000],
                "siaran-origin-topic": p.raw.topic,
                "siaran-origin-partition": str(p.raw.partition),
                "siaran-origin-offset": str(p.raw.offset),
                "siaran-dead-lettered-by": source,
                "siaran-dead-lettered-at": utcnow().isoformat(),
            }
        )
        log.warning(
            "dead_lettered", origin_topic=p.raw.topic, offset=p.raw.offset, reason=p.reason[:300]
        )
        future = await broker.publish(
            p.raw.value or b"", DLQ, key=p.raw.key, headers=headers, no_confirm=True
        )
        if future is not None:
            futures.append(future)
    if futures:
        await asyncio.gather(*futures)


def reason_kind(reason: str) -> str:
    """A low-cardinality label for a dead-letter reason: the word before the first colon."""
    head = reason.split(":", 1)[0].strip().lower()
    return head if head.replace("_", "").isalpha() and len(head) <= 32 else "other"
