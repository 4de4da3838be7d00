"""What every service's create_app() shares: settings, logging, telemetry, the store,
the Kafka broker, the API key ring, and a lifespan that starts and stops them in order."""

from __future__ import annotations

import asyncio
import functools
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from siaran_shared.auth import KeyRing
from siaran_shared.http import create_http_app
from siaran_shared.logging import configure_logging, get_logger
from siaran_shared.messaging import ensure_topics, make_broker
from siaran_shared.messaging.lag import report_consumer_lag
from siaran_shared.settings import Settings, load_settings
from siaran_shared.store import Store, open_store
from siaran_shared.telemetry import setup_telemetry, shutdown_telemetry

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]
Loop = Callable[[], Coroutine[Any, Any, None]]


class Supervisor:
    """Tasks that must run as long as the service does. One that ends before `stop()`
    (crashed, returned or cancelled) is a failure: it fails GET /healthz and calls
    `on_failure` (`run_service` stops the process, so Kubernetes or `siaran dev` restart
    it, rather than leaving a service that answers and delivers nothing)."""

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}
        self.on_failure: Callable[[], None] | None = None
        self._names: dict[asyncio.Task[Any], str] = {}
        self._owned: set[asyncio.Task[Any]] = set()
        self._stopping = False

    def start(self, name: str, loop: Loop) -> None:
        """Run `loop` as a supervised task (cancelled by `stop()`)."""
        task = asyncio.create_task(loop(), name=name)
        self._owned.add(task)
        self.watch(name, task)

    def watch(self, name: str, task: asyncio.Task[Any]) -> None:
        """Supervise a task that something else started and stops."""
        self._names[task] = name
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        name = self._names.pop(task, task.get_name())
        self._owned.discard(task)
        error = None if task.cancelled() else task.exception()  # retrieved: no warning
        if self._stopping:
            return
        if error is not None:
            why = f"crashed: {type(error).__name__}"  # /healthz is public: details in the log
            log.error("background_task_crashed", task=name, exc_info=error)
        else:
            why = "cancelled" if task.cancelled() else "returned"
            log.error("background_task_ended", task=name, reason=why)
        self.failures[name] = why
        if self.on_failure is not None:
            self.on_failure()

    async def stop(self) -> None:
        """From now on tasks may end; cancel the ones `start` started and wait for them."""
        self._stopping = True
        owned = list(self._owned)
        for task in owned:
            task.cancel()
        await asyncio.gather(*owned, return_exceptions=True)


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
    loops: dict[str, Loop] = field(default_factory=dict)
    supervisor: Supervisor = field(default_factory=Supervisor)

    @property
    def source(self) -> str:
        """CloudEvents `source` of what this service produces."""
        return f"siaran/{self.settings.service}"

    def run_in_background(self, name: str, loop: Loop) -> None:
        """Run `loop` for the service's lifetime, once consuming has started; if it ends
        before shutdown, the service is unhealthy (see Supervisor)."""
        self.loops[name] = loop

    def start_background(self) -> None:
        """Start the loops, and supervise them and the broker's consuming tasks."""
        for sub in self.broker.subscribers:
            topics = ",".join(t.name for t in getattr(sub, "topics", ()))
            for task in getattr(sub, "tasks", ()):  # FastStream's consume loops
                self.supervisor.watch(f"consumer {topics}", task)
        for name, loop in self.loops.items():
            self.supervisor.start(name, loop)


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
        runtime.start_background()
        log.info("service_started", port=settings.http_port, store=_redact(settings))
        try:
            yield
        finally:
            await runtime.supervisor.stop()
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
        live_problems=lambda: runtime.supervisor.failures,
        max_body_bytes=max_body_bytes,
    )


def _redact(settings: Settings) -> str:
    url = settings.resolved_store_url
    if "@" in url:  # mongodb://user:password@host → mongodb://***@host
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url


def settle_garbage_collector() -> None:
    """Once a service's app is built, what start-up made (modules, models, schemas, plugins:
    150,000 objects in the publisher) is kept out of every later collection (`gc.freeze`),
    after one collection of start-up's own garbage. A full collection scanned them all (~0.1 s
    each): the collector took 14 % of the publisher's CPU in a fan-out bench."""
    gc.collect()
    gc.freeze()


def run_service(service: str, factory: str) -> None:
    """Run a service's app with uvicorn on its configured host and port, until it is
    stopped or one of its supervised tasks ends (then exit with status 1, to be restarted)."""
    import uvicorn
    from uvicorn.importer import import_from_string

    settings = load_settings(service)
    runtimes: list[Runtime] = []

    def create_app() -> FastAPI:
        app: FastAPI = import_from_string(factory)()
        settle_garbage_collector()
        runtime = getattr(app.state, "runtime", None)
        if isinstance(runtime, Runtime):  # the console has no broker and no loops
            runtime.supervisor.on_failure = shut_down
            runtimes.append(runtime)
        return app

    config = uvicorn.Config(
        create_app,
        factory=True,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)

    def shut_down() -> None:
        server.should_exit = True

    server.run()
    failures = {name: why for r in runtimes for name, why in r.supervisor.failures.items()}
    if failures:
        raise SystemExit(f"{service} stopped: background tasks ended: {failures}")
