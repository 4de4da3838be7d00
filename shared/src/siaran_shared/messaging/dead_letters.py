"""Dead-lettering: poison records to `siaran.dlq.v1` with their original bytes and headers
(less credentials), the reason and where they came from; never a crash or a silent drop.
And the way back: a replay produces a dead letter's original bytes, key and headers to the
topic it came from, without the dead-letter headers and with `siaran-replayed-at` (the
`siaran dlq replay` command and metrics' `POST /v1/dead-letters/{id}/replay` both use it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from siaran_shared.events import utcnow
from siaran_shared.events.topics import DLQ
from siaran_shared.logging import get_logger
from siaran_shared.messaging.decoding import Poison
from siaran_shared.messaging.headers import Header, decode_headers, is_sensitive
from siaran_shared.messaging.producer import aiokafka_producer
from siaran_shared.metric_names import DLQ as DLQ_METRIC
from siaran_shared.telemetry import counter

log = get_logger(__name__)

#: Header names (prefixes) a dead letter adds to the original record; a replay drops them.
DEAD_LETTER_HEADERS = ("siaran-error", "siaran-dead-lettered-", "siaran-origin-")
ORIGIN_TOPIC = "siaran-origin-topic"
REPLAY_HEADER = "siaran-replayed-at"


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
                ORIGIN_TOPIC: p.raw.topic,
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


def replay_headers(headers: Iterable[Header]) -> list[Header]:
    """A dead letter's original headers: every dead-letter header removed, the replay stamp
    added (it lets the publisher try a failed delivery again)."""
    kept = [
        (k, v) for k, v in headers if not k.startswith(DEAD_LETTER_HEADERS) and k != REPLAY_HEADER
    ]
    return [*kept, (REPLAY_HEADER, utcnow().isoformat().encode())]


@dataclass(frozen=True, slots=True)
class Replay:
    """A dead letter on its way back: original bytes and key, replay headers, origin topic."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[Header]

    @classmethod
    def of(cls, topic: str, key: bytes | None, value: bytes, headers: Iterable[Header]) -> Replay:
        """The replay of a dead letter read back with its dead-letter headers."""
        return cls(topic, key, value, replay_headers(headers))


async def produce_replays(producer: AIOKafkaProducer, replays: Sequence[Replay]) -> int:
    """Produce every replay and wait for the broker's acknowledgement of all; the count."""
    futures = [await producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in replays]
    await asyncio.gather(*futures)
    return len(futures)


async def replay(broker: KafkaBroker, replays: Sequence[Replay]) -> int:
    """`produce_replays` on a service's broker: its aiokafka producer when connected (the
    headers exactly as they were), else FastStream's publish (the in-memory test broker)."""
    producer = aiokafka_producer(broker)
    if producer is not None:
        return await produce_replays(producer, replays)
    for r in replays:
        headers = {k: v.decode(errors="replace") for k, v in r.headers}
        await broker.publish(r.value, r.topic, key=r.key, headers=headers)
    return len(replays)
