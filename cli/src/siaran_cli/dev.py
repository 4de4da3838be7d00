"""`siaran dev`: the bundled broker and the four services, supervised, on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from siaran_shared.auth import KeyRing
from siaran_shared.messaging import ensure_topics
from siaran_shared.settings import Settings

from siaran_cli.demo import DEMO_PORT, demo_channels
from siaran_cli.stack import SERVICES, Stack, StackConfig, port_in_use

console = Console(highlight=False)
COLOURS = {"broker": "magenta", "ingest": "cyan", "router": "green", "publisher": "yellow",
           "metrics": "blue", "console": "bright_blue", "demo": "white"}  # fmt: skip
MAX_RESTARTS_PER_MINUTE = 5
WEB_APIS = ("ingest", "router", "metrics")  # what the web console calls


def _printer(name: str, line: str) -> None:
    prefix = Text(f"{name:>9} │ ", style=COLOURS.get(name, "white"))
    console.print(prefix + Text(line), soft_wrap=True)


def ensure_dev_key(home: Path) -> Path:
    """Create a local admin key on first start; its value goes to .siaran/dev-api-key (600)."""
    path = home / "dev-api-key"
    ring = KeyRing(Settings(home=home).resolved_api_keys_file)
    if path.exists() and ring.verify(path.read_text().strip()) is not None:
        return path
    _, token = ring.create(f"dev-{int(time.time())}", "admin")
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)
    return path


def dev(
    home: Annotated[Path, typer.Option(help="Folder for local state.")] = Path(".siaran"),
    kafka_port: Annotated[int, typer.Option(help="Port of the bundled broker.")] = 9092,
    demo: Annotated[
        bool,
        typer.Option(help="Run the demo receiver and load the demo registry on first start."),
    ] = True,
    demo_port: Annotated[int, typer.Option(help="Port of the demo receiver.")] = DEMO_PORT,
) -> None:
    """Start the broker and the four services, wait until ready, supervise until Ctrl-C."""
    log_format = "console" if sys.stdout.isatty() else "json"
    config = StackConfig(home=home.resolve(), kafka_port=kafka_port, log_format=log_format)
    config.extra_env = {f"SIARAN_CONSOLE_{s.upper()}_URL": config.url(s) for s in WEB_APIS}
    try:
        asyncio.run(_run(config, demo_port if demo else None))
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        console.print(f"[red]siaran dev: {exc}")
        raise typer.Exit(1) from exc


async def _run(config: StackConfig, demo_port: int | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stack = Stack(config, _printer)
    try:
        key_path = ensure_dev_key(config.home)
        await stack.start_broker()
        created = await ensure_topics(Settings(kafka_bootstrap=config.bootstrap))
        _printer("broker", f"ready on {config.bootstrap}; topics created: {len(created)}")
        if demo_port is not None and port_in_use("127.0.0.1", demo_port):
            _printer("demo", f"port {demo_port} is in use: demo receiver not started")
        elif demo_port is not None:
            await stack.start_demo_receiver(demo_port)
        await stack.start_services((*SERVICES, "console"))
        started = time.monotonic()
        await _until(stack.wait_ready(60), stop)
        if stop.is_set():
            return
        if demo_port is not None:
            key = key_path.read_text().strip()
            await load_demo_registry(config, key, demo_port)
        _banner(config, key_path, time.monotonic() - started)
        await _supervise(stack, stop)
    finally:
        console.print("[bold]stopping…")
        await stack.stop()
        console.print("[bold]stopped: no process of the stack is left running")


async def load_demo_registry(config: StackConfig, key: str, port: int) -> None:
    """On first start (no marker under home), import the demo registry into the router."""
    marker = config.home / "demo-registry-loaded"
    if marker.exists():
        _printer("demo", f"demo registry loaded before; receiver stats: {_stats_url(port)}")
        return
    rows = demo_channels(port)
    async with httpx.AsyncClient(
        base_url=config.url("router"),
        headers={"Authorization": f"Bearer {key}"},
        timeout=120.0,
    ) as client:
        r = await client.post("/v1/channels:import", json={"channels": rows})
    if r.status_code != 200:
        _printer(
            "demo", f"demo registry not loaded: router answered {r.status_code} {r.text[:300]}"
        )
        return
    marker.write_text(f"{len(rows)} channels\n")
    body = r.json()
    _printer(
        "demo",
        f"demo registry: {len(body['created'])} channels created, {body['unchanged']} unchanged "
        f"({len(rows)} in 552 regions + ID); receiver stats: {_stats_url(port)}",
    )


def _stats_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/stats"


async def _until(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run `work` until it ends or `stop` is set, whichever comes first."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task in done:
        task.result()
    else:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _supervise(stack: Stack, stop: asyncio.Event) -> None:
    """Restart a service that exits, at most MAX_RESTARTS_PER_MINUTE times a minute."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if stop.is_set():
            return
        if stack.broker is not None and not stack.broker.running:
            raise RuntimeError("the broker exited; restart `siaran dev` (its data was in memory)")
        for name, child in stack.services.items():
            if child.running:
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < 60] + [now]
            if len(child.restarts) > MAX_RESTARTS_PER_MINUTE:
                raise RuntimeError(f"{name} keeps crashing; see its log lines above")
            code = child.proc.returncode if child.proc else None
            _printer(name, f"exited with code {code}; restarting")
            await child.start()


def _banner(config: StackConfig, key_path: Path, seconds: float) -> None:
    table = Table(title=f"Siaran is ready ({seconds:.1f}s)", show_header=True)
    table.add_column("service")
    table.add_column("URL")
    table.add_column("API docs")
    for name in SERVICES:
        url = config.url(name)
        table.add_row(name, url, url + "/docs")
    table.add_row("broker", f"kafka://{config.bootstrap}", "")
    console.print(table)
    console.print(f"web console: [bold]{config.url('console')}[/] (sign in with the admin key)")
    console.print(
        f"admin API key: [bold]{key_path}[/] (use: Authorization: Bearer $(cat {key_path}))"
    )
    console.print("Ctrl-C stops everything.")
