"""The demo: a registry of every province and regency with six channels each, all pointing
at a local receiver that counts what arrives, so a new user sees a national announcement
fan out to thousands of channels without any real account.

`siaran dev` loads the registry on first start and runs the receiver on port 8099;
`GET http://127.0.0.1:8099/stats?announcement_id=…` shows what one announcement reached.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from aiohttp import web
from siaran_shared.regions import NATIONAL, regions

DEMO_PORT = 8099
#: Besides a website, each region gets five of these, rotating so every kind is common.
SOCIAL_KINDS = ("x", "facebook", "instagram", "telegram", "whatsapp", "tiktok", "youtube")
CHANNELS_PER_REGION = 6

app = typer.Typer(no_args_is_help=True)


def demo_channels(port: int = DEMO_PORT, host: str = "127.0.0.1") -> list[dict[str, Any]]:
    """Six channels for every province, regency and the ministry (ID), as import rows."""
    known = regions()
    codes = [NATIONAL]
    for province in known.provinces:
        codes += [province, *known.regencies_of(province)]
    rows: list[dict[str, Any]] = []
    for n, code in enumerate(codes):
        start = n % len(SOCIAL_KINDS)
        social = [SOCIAL_KINDS[(start + i) % len(SOCIAL_KINDS)] for i in range(5)]
        name = "Kementerian" if code == NATIONAL else f"Diskominfo {known.name_of(code)}"
        for kind in ("web", *social):
            tags = ["official", "ministry" if code == NATIONAL else "regional"]
            tags.append("website" if kind == "web" else "social")
            rows.append(
                {
                    "id": f"demo-{code}-{kind}",
                    "region": code,
                    "kind": kind,
                    "name": f"{name} ({kind})",
                    "endpoint": f"http://{host}:{port}/{kind}/{code}",
                    "tags": tags,
                }
            )
    return rows


@app.command("registry")
def registry(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (.yaml)")] = None,
    port: Annotated[int, typer.Option(help="Port of the demo receiver.")] = DEMO_PORT,
) -> None:
    """Write the demo registry as an import file (YAML)."""
    text = yaml.safe_dump({"channels": demo_channels(port)}, sort_keys=False, allow_unicode=True)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(demo_channels(port))} channels to {output}", err=True)


@dataclass
class Tally:
    """What one announcement (or everything) brought to the receiver."""

    unique: int = 0
    duplicates: int = 0
    retractions: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_province: Counter[str] = field(default_factory=Counter)
    regions: set[str] = field(default_factory=set)

    def view(self) -> dict[str, Any]:
        return {
            "unique": self.unique,
            "duplicates": self.duplicates,
            "retractions": self.retractions,
            "regions": len(self.regions),
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_province": dict(sorted(self.by_province.items())),
        }


@dataclass
class DemoReceiver:
    """Accepts every post, de-duplicated on Idempotency-Key, counted per kind and region."""

    seen: set[tuple[str, str]] = field(default_factory=set)
    total: Tally = field(default_factory=Tally)
    by_announcement: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    requests: int = 0

    def application(self) -> web.Application:
        application = web.Application(client_max_size=4 << 20)
        application.router.add_get("/stats", self.stats)
        application.router.add_post("/reset", self.reset)
        application.router.add_post("/{kind}/{region}", self.receive)
        return application

    async def receive(self, request: web.Request) -> web.Response:
        self.requests += 1
        kind, region = request.match_info["kind"], request.match_info["region"]
        key = request.headers.get("Idempotency-Key", "")
        try:
            event = json.loads(await request.read())
            data = event.get("data") or {}
            event_type = str(event.get("type", ""))
        except (ValueError, AttributeError):
            return web.json_response({"error": "body is not a CloudEvents JSON object"}, status=400)
        announcement = str(data.get("announcement_id") or key.partition(":")[0])
        tallies = (self.total, self.by_announcement[announcement])
        if (key, event_type) in self.seen:
            for t in tallies:
                t.duplicates += 1
            return web.json_response({"status": "duplicate"})
        self.seen.add((key, event_type))
        province = region if region == NATIONAL else region.split(".")[0]
        for t in tallies:
            if event_type.endswith(".retracted.v1"):
                t.retractions += 1
                continue
            t.unique += 1
            t.by_kind[kind] += 1
            t.by_province[province] += 1
            t.regions.add(region)
        return web.json_response({"status": "received"})

    async def stats(self, request: web.Request) -> web.Response:
        announcement = request.query.get("announcement_id")
        if announcement is not None:
            tally = self.by_announcement.get(announcement, Tally())
            return web.json_response({"announcement_id": announcement, **tally.view()})
        return web.json_response(
            {
                "requests": self.requests,
                **self.total.view(),
                "announcements": {a: t.unique for a, t in self.by_announcement.items()},
            }
        )

    async def reset(self, _: web.Request) -> web.Response:
        self.seen.clear()
        self.total = Tally()
        self.by_announcement.clear()
        self.requests = 0
        return web.json_response({"status": "reset"})


async def serve(host: str, port: int) -> None:
    """Run the demo receiver until SIGINT or SIGTERM."""
    runner = web.AppRunner(DemoReceiver().application(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    sys.stdout.write(f"demo receiver on http://{host}:{port} (GET /stats)\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


@app.command("receiver")
def receiver(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEMO_PORT,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Run the demo receiver: counts deliveries per kind and region, GET /stats."""
    asyncio.run(serve(host, port))


if __name__ == "__main__":
    app()
