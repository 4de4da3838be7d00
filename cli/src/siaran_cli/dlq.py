"""`siaran dlq`: list dead letters and replay them to the topic they came from.

Dead letters keep the original bytes and headers plus `siaran-error` and
`siaran-origin-*`; a replay produces the original bytes and headers to the origin topic,
without the dead-letter headers and with `siaran-replayed-at`, which lets the publisher try
a failed delivery again. It needs the broker's credentials (SIARAN_KAFKA_*), which only
operators hold: that is what makes it an admin command."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.table import Table
from siaran_shared.events.topics import DLQ
from siaran_shared.messaging import (
    Replay,
    aiokafka_options,
    produce_replays,
    producer_options,
)
from siaran_shared.messaging.dead_letters import ORIGIN_TOPIC
from siaran_shared.settings import Settings

app = typer.Typer(no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def origin(self) -> str:
        return self.header(ORIGIN_TOPIC)

    @property
    def error(self) -> str:
        return self.header("siaran-error")

    @property
    def key_text(self) -> str:
        return self.key.decode(errors="replace") if self.key else ""

    def matches(self, origin: str | None, error: str | None, key: str | None, since: int) -> bool:
        return (
            self.offset >= since
            and (origin is None or self.origin == origin)
            and (error is None or error.lower() in self.error.lower())
            and (key is None or self.key_text == key)
        )


async def read_dead_letters(settings: Settings) -> list[DeadLetter]:
    """Every record on the dead-letter topic, oldest first (read to the end, no group)."""
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=100)  # fmt: skip
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(DLQ) or set()
        tps = [TopicPartition(DLQ, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        letters: list[DeadLetter] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            if not batches:
                break
            for records in batches.values():
                letters += [
                    DeadLetter(r.offset, r.key, r.value or b"", list(r.headers or ()))
                    for r in records
                ]
        return sorted(letters, key=lambda d: d.offset)
    finally:
        await consumer.stop()


async def replay(settings: Settings, letters: list[DeadLetter]) -> int:
    """Produce each dead letter's original bytes and headers to its origin topic."""
    producer = AIOKafkaProducer(
        **aiokafka_options(settings), **producer_options(settings), linger_ms=5
    )
    await producer.start()
    try:
        return await produce_replays(
            producer, [Replay.of(d.origin, d.key, d.value, d.headers) for d in letters]
        )
    finally:
        await producer.stop()


OriginOpt = Annotated[str | None, typer.Option("--origin-topic", help="Only from this topic.")]
ErrorOpt = Annotated[str | None, typer.Option("--error", help="Only errors containing this.")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="Only records with this key.")]
SinceOpt = Annotated[int, typer.Option("--from-offset", help="Only from this DLQ offset on.")]


@app.command("list")
def list_dead_letters(
    origin_topic: OriginOpt = None,
    error: ErrorOpt = None,
    key: KeyOpt = None,
    from_offset: SinceOpt = 0,
) -> None:
    """List dead letters: offset, origin topic, key, when and why."""
    letters = asyncio.run(read_dead_letters(Settings()))
    table = Table("offset", "origin topic", "key", "dead-lettered at", "error")
    shown = [d for d in letters if d.matches(origin_topic, error, key, from_offset)]
    for d in shown:
        table.add_row(str(d.offset), d.origin, d.key_text,
                      d.header("siaran-dead-lettered-at")[:19], d.error[:160])  # fmt: skip
    out.print(table)
    err.print(f"{len(shown)} of {len(letters)} dead letters")


@app.command("replay")
def replay_dead_letters(
    origin_topic: OriginOpt = None,
    error: ErrorOpt = None,
    key: KeyOpt = None,
    from_offset: SinceOpt = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be replayed.")] = False,
) -> None:
    """Replay matching dead letters to their origin topic (original bytes and headers)."""
    settings = Settings()
    letters = [
        d
        for d in asyncio.run(read_dead_letters(settings))
        if d.matches(origin_topic, error, key, from_offset)
    ]
    unknown = [d.offset for d in letters if not d.origin]
    if unknown:
        err.print(f"[red]no siaran-origin-topic header on offsets {unknown[:10]}; not replayed")
        letters = [d for d in letters if d.origin]
    if dry_run:
        for d in letters:
            out.print(f"would replay offset {d.offset} to {d.origin} (key {d.key_text!r})")
        return
    count = asyncio.run(replay(settings, letters)) if letters else 0
    out.print(f"replayed {count} dead letters")
