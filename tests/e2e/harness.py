"""Test harness: the real stack (bundled broker + four services as processes), and the real
HTTP receiver that records every request it gets (siaran_shared.testing.receiver)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from siaran_cli.dev import ensure_dev_key
from siaran_cli.stack import SERVICES, Stack, StackConfig
from siaran_shared.events.topics import TOPICS
from siaran_shared.testing.receiver import Hit
from siaran_shared.testing.receiver import Receiver as Receiver  # re-exported for the tests

#: a request the receiver got, under the name the tests import here
Received = Hit


@dataclass
class RunningStack:
    stack: Stack
    key: str
    log: Path
    log_handle: IO[str]

    async def stop(self) -> None:
        await self.stack.stop()
        self.log_handle.close()

    def url(self, service: str) -> str:
        return self.stack.config.url(service)

    def client(self, service: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url(service),
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=10.0,
        )

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def external_bootstrap() -> str | None:
    """The broker SIARAN_TEST_KAFKA_BOOTSTRAP names, if any (else each stack starts its own)."""
    return os.environ.get("SIARAN_TEST_KAFKA_BOOTSTRAP") or None


def stack_config(
    home: Path, services: tuple[str, ...] = SERVICES, extra_env: dict[str, str] | None = None
) -> StackConfig:
    """A stack on free ports, on the test broker when SIARAN_TEST_KAFKA_BOOTSTRAP names one."""
    config = StackConfig.on_free_ports(home, services, extra_env)
    config.external_bootstrap = external_bootstrap()
    return config


def stack_scope(fixture_name: str, config: pytest.Config) -> str:
    """The scope of a fixture holding a stack: its package on bundled brokers (each stack has
    its own; stopped once the package's tests are done, not left running, polling its broker,
    through the rest of the suite); the module on a named broker, where only one stack may
    run at a time."""
    return "module" if external_bootstrap() else "package"


#: the last stack started on a named broker (checked: it must have stopped before the next)
_on_named_broker: list[Stack] = []


async def provide_broker(stack: Stack) -> None:
    """Start the bundled broker; or, on a named broker, delete Siaran's topics first.

    Topic names and consumer groups are the contract's, so two stacks cannot share a broker:
    a stack on a named broker starts from empty topics as it would on a bundled one, and what
    an earlier run or stack left there (registry, offsets, dead letters) is gone.
    """
    if stack.config.external_bootstrap is None:
        await stack.start_broker()
        return
    if any(child.running for other in _on_named_broker for child in other.services.values()):
        raise RuntimeError(
            "another stack still runs on the broker SIARAN_TEST_KAFKA_BOOTSTRAP names, and two "
            "would share its topics and consumer groups: give its fixture scope=stack_scope"
        )
    _on_named_broker[:] = [stack]
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.config.bootstrap)
    await admin.start()
    try:
        names = {spec.name for spec in TOPICS}
        present = names & set(await admin.list_topics())
        if present:
            await admin.delete_topics(sorted(present))

        async def deleted() -> bool:
            return names.isdisjoint(await admin.list_topics())

        await eventually(deleted, within=30, what="Siaran's topics deleted")
    finally:
        await admin.close()


async def start_stack(
    home: Path, extra_env: dict[str, str] | None = None, services: tuple[str, ...] = SERVICES
) -> RunningStack:
    """Broker and services on free ports, logs in home/stack.log, an admin key."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "stack.log"
    handle = log.open("a", encoding="utf-8")

    def printer(name: str, line: str) -> None:
        handle.write(f"{name:>9} | {line}\n")
        handle.flush()

    config = stack_config(home, services, {"SIARAN_LOG_LEVEL": "INFO", **(extra_env or {})})
    key = ensure_dev_key(home).read_text().strip()
    stack = Stack(config, printer)
    running = RunningStack(stack, key, log, handle)
    try:
        await provide_broker(stack)
        await stack.start_services(services)
        await stack.wait_ready(90)
    except BaseException:
        await running.stop()
        raise
    return running


async def eventually(
    check: Callable[[], Any], *, within: float = 15.0, every: float = 0.1, what: str = "condition"
) -> Any:
    """Poll `check` (sync or async) until it returns a truthy value."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"{what} not reached within {within}s (last: {last!r})")


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` up to its end as of this call (no consumer group).

    Called after a later event was observed downstream, this proves an absence: whatever was
    produced before that event is in the list.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                group_id=None, fetch_max_wait_ms=100)  # fmt: skip
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records += batch
        return records
    finally:
        await consumer.stop()
