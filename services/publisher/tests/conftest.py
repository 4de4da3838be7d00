from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from siaran_publisher.claims import INDEXES
from siaran_publisher.config import PublisherSettings
from siaran_publisher.deliver import Deliverer
from siaran_publisher.scheduler import Scheduler
from siaran_publisher.wiring import Delivery, assemble
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, utcnow
from siaran_shared.store import Collection, StoreUnavailable, open_store
from siaran_shared.testing.receiver import Receiver

#: the shared webhook receiver, under the name this suite's tests import
ScriptedReceiver = Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[ScriptedReceiver]:
    r = ScriptedReceiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@dataclass
class DrippingReceiver:
    """A real local server that reads a request, then sends its answer's header bytes one
    at a time, slowly, for ever: no single read ever waits long, the answer never ends."""

    port: int = 0
    requests: int = 0
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/drip"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._open:
                writer.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        self._open.add(writer)
        writer.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        try:
            while True:
                writer.write(b"a")
                await writer.drain()
                await asyncio.sleep(0.05)
        except (ConnectionError, asyncio.CancelledError):
            writer.close()


@pytest.fixture
async def dripping() -> AsyncIterator[DrippingReceiver]:
    r = DrippingReceiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


SECRET = "s3cr3t-signing-value"


class FlakyWrites:
    """A collection whose next `failures` writes fail, as a store losing its primary does."""

    def __init__(self, docs: Collection) -> None:
        self._docs = docs
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._docs, name)

    def _fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("store write failed (test)")

    async def put_many(self, docs: Mapping[str, dict[str, Any]]) -> None:
        self._fail()
        await self._docs.put_many(docs)

    async def update(self, key: str, changes: dict[str, Any], **kw: Any) -> bool:
        self._fail()
        return await self._docs.update(key, changes, **kw)


@dataclass
class Harness:
    delivery: Delivery
    scheduler: Scheduler
    docs: FlakyWrites
    requeued: list[DeliveryPlanned] = field(default_factory=list)

    @property
    def deliverer(self) -> Deliverer:
        return self.delivery.deliverer

    async def run(self, task: DeliveryPlanned, **headers: str) -> list[DeliveryCompleted]:
        """Handle a task, then every retry the schedule hands back, until nothing is due."""
        results: list[DeliveryCompleted] = []
        self.last_dead_letter: str | None = None
        pending = [task]
        for _ in range(50):
            for t in pending:
                handled = await self.deliverer.handle(t, headers)
                results += handled.results
                self.last_dead_letter = handled.dead_letter or self.last_dead_letter
            self.requeued.clear()
            await self.scheduler.tick(utcnow() + timedelta(seconds=1))
            pending = list(self.requeued)
            if not pending:
                if results:
                    return results
                await asyncio.sleep(0.05)
        return results


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    (tmp_path / "HOOK").write_text(SECRET)
    store = open_store(f"sqlite:///{tmp_path / 'publisher.db'}", "publisher")
    await store.connect()
    docs = FlakyWrites(store.collection("deliveries", INDEXES))
    settings = PublisherSettings(
        secrets_dir=tmp_path, claim_lease_seconds=30, webhook_read_timeout_seconds=5,
        retry_max_attempts=4, retry_base_seconds=0.01, retry_max_delay_seconds=0.05,
        breaker_failures=10, breaker_cooldown_seconds=1.0,
    )  # fmt: skip
    delivery = assemble(docs, settings, owner="test:1")  # type: ignore[arg-type]
    schedule = delivery.claims.schedule
    h = Harness(delivery, Scheduler(schedule, lambda ts: _keep(h, ts), poll=0.05), docs)
    try:
        yield h
    finally:
        await delivery.transport.close()
        await store.close()


async def _keep(h: Harness, tasks: Sequence[DeliveryPlanned]) -> None:
    h.requeued.extend(tasks)


def task(endpoint: str, channel: str = "bantaeng-web", **fields: object) -> DeliveryPlanned:
    values: dict[str, object] = dict(
        delivery_id=f"a1:{channel}", announcement_id="a1", channel_id=channel, region="73.03",
        province="73", kind="web", endpoint=endpoint, title="Judul", text="Isi pengumuman",
        accepted_at=utcnow(),
    )  # fmt: skip
    values.update(fields)
    return DeliveryPlanned.model_validate(values)
