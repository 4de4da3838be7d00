"""What every service's create_app() shares: settings, logging, telemetry, the store,
the Kafka broker, the API key ring, and a lifespan that starts and stops them in order."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from siaran_shared.auth import KeyRing
from siaran_shared.http import create_http_app
from siaran_shared.kafka import ensure_topics, make_broker
from siaran_shared.lag import report_consumer_lag
from siaran_shared.logging import configure_logging, get_logger
from siaran_shared.settings import Settings, load_settings
from siaran_shared.store import Store, open_store
from siaran_shared.telemetry import setup_telemetry, shutdown_telemetry

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """The parts of a running service, wired once by its factory."""

    settings: Settings
    broker: KafkaBroker
    store: Store
    keyring: KeyRing
    #: run after the store and the broker's producer connect, before consuming starts
    on_start: list[Hook] = field(default_factory=list)
    #: run after consuming stopped, before the broker and store close
    on_stop: list[Hook] = field(default_factory=list)
    #: loops started once consuming runs, cancelled first at shutdown
    loops: dict[str, Hook] = field(default_factory=dict)
    background: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def source(self) -> str:
        """CloudEvents `source` of what this service produces."""
        return f"siaran/{self.settings.service}"

    def run_in_background(self, name: str, loop: Hook) -> None:
        """Run `loop` for the service's lifetime, once consuming has started."""
        self.loops[name] = loop


async def _guard(coro_fn: Callable[[], Awaitable[None]], name: str) -> None:
    try:
        await coro_fn()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background_task_crashed", task=name)
        raise


def build_runtime(service: str, settings: Settings | None = None) -> Runtime:
    """Settings, logging, telemetry, broker and store for a service; nothing connects yet.

    HTTP client calls are traced by the service that makes them (the publisher puts its
    delivery span's `traceparent` on each webhook request itself).
    """
    settings = (settings or load_settings(service)).for_service(service)
    configure_logging(settings)
    setup_telemetry(service)
    runtime = Runtime(
        settings=settings,
        broker=make_broker(settings),
        store=open_store(settings.resolved_store_url, service),
        keyring=KeyRing(settings.resolved_api_keys_file),
    )
    # siaran_consumer_lag for every service; it reads the subscribers once consuming runs.
    runtime.run_in_background(
        "consumer_lag", functools.partial(report_consumer_lag, settings, runtime.broker)
    )
    return runtime


def create_service_app(
    runtime: Runtime, *, title: str, description: str, max_body_bytes: int = 1 << 20
) -> FastAPI:
    """The service's HTTP app; its lifespan connects the store, then the broker, then hooks."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settings = runtime.settings
        await runtime.store.connect()
        if settings.kafka_create_topics:
            created = await ensure_topics(settings)
            if created:
                log.info("topics_created", topics=created)
        await runtime.broker.connect()
        for hook in runtime.on_start:
            await hook()
        await runtime.broker.start()
        runtime.background = [
            asyncio.create_task(_guard(loop, name), name=name)
            for name, loop in runtime.loops.items()
        ]
        log.info("service_started", port=settings.http_port, store=_redact(settings))
        try:
            yield
        finally:
            for task in runtime.background:
                task.cancel()
            await asyncio.gather(*runtime.background, return_exceptions=True)
            await runtime.broker.stop()
            for hook in runtime.on_stop:
                await hook()
            await runtime.store.close()
            shutdown_telemetry()
            log.info("service_stopped")

    async def broker_ready() -> None:
        if not await runtime.broker.ping(timeout=2.0):
            raise RuntimeError(f"Kafka at {runtime.settings.kafka_bootstrap} is not reachable")

    return create_http_app(
        service=runtime.settings.service,
        title=title,
        description=description,
        keyring=runtime.keyring,
        lifespan=lifespan,
        ready_checks={"kafka": broker_ready, "store": runtime.store.ping},
        max_body_bytes=max_body_bytes,
    )


def _redact(settings: Settings) -> str:
    url = settings.resolved_store_url
    if "@" in url:  # mongodb://user:password@host → mongodb://***@host
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url


def run_service(service: str, factory: str) -> None:
    """Run a service's app with uvicorn on its configured host and port."""
    import uvicorn

    settings = load_settings(service)
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
