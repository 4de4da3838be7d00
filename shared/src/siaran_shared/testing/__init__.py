"""Helpers for handler tests: a service's app wired to FastStream's in-memory broker and a
temporary SQLite store, with its start hooks run, no network involved."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from siaran_shared.auth import KeyRing
from siaran_shared.events import Event
from siaran_shared.service import Runtime
from siaran_shared.settings import Settings

E = TypeVar("E", bound=Event)


@dataclass
class ServiceUnderTest:
    app: FastAPI
    runtime: Runtime
    broker: Any  # the patched KafkaBroker
    admin_key: str
    seen: dict[str, list[Any]]  # records produced to observed topics, by topic

    def events(self, topic: str, model: type[E]) -> list[E]:
        """The events produced to an observed topic, decoded as `model`."""
        return [model.model_validate_json(r.value) for r in self.seen[topic] if r.value]

    async def publish(self, topic: str, body: bytes | None, *, key: str | None = None,
                      headers: dict[str, str] | None = None) -> None:  # fmt: skip
        """Deliver a record to the app's subscribers as the broker would."""
        await self.broker.publish(
            body, topic, key=key.encode() if key else None, headers=headers or {}
        )


def settings_for_test(home: Path, **overrides: Any) -> Settings:
    """Settings for a test: state under `home`, no topic creation, console logs."""
    values: dict[str, Any] = {
        "home": home,
        "kafka_create_topics": False,
        "log_format": "console",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def service_under_test(
    create_app: Callable[[Settings], FastAPI],
    home: Path,
    *,
    observe: tuple[str, ...] = (),
    **overrides: Any,
) -> AsyncIterator[ServiceUnderTest]:
    """The app from `create_app`, its store connected and start hooks run, on TestKafkaBroker.

    Records the app produces to the `observe` topics are collected in `seen`.
    """
    settings = settings_for_test(home, **overrides)
    _, token = KeyRing(settings.resolved_api_keys_file).create("test-admin", "admin")
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    seen: dict[str, list[Any]] = {topic: [] for topic in observe}
    for topic in observe:
        _spy(runtime, topic, seen[topic])
    await runtime.store.connect()
    try:
        async with TestKafkaBroker(runtime.broker) as broker:
            for hook in runtime.on_start:
                await hook()
            try:
                yield ServiceUnderTest(app, runtime, broker, token, seen)
            finally:
                for hook in runtime.on_stop:
                    await hook()
    finally:
        await runtime.store.close()


def _spy(runtime: Runtime, topic: str, sink: list[Any]) -> None:
    @runtime.broker.subscriber(topic, batch=True, group_id=f"spy-{topic}")
    async def spy(_: Any, msg: KafkaMessage) -> None:
        sink.extend(msg.raw_message)
