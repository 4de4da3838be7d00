"""`siaran report ID [--follow]`: an announcement's delivery report from the metrics service,
as a table, or followed live with a progress bar until nothing is pending."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from siaran_cli.api import METRICS_URL, ApiKey, MetricsUrl, resolve_key

out = Console()
err = Console(stderr=True)

STATUSES = ("delivered", "failed", "pending", "cancelled", "expired", "skipped")


def fetch(client: httpx.Client, announcement_id: str) -> dict[str, Any] | None:
    """The report, or None while the ledger has not seen the announcement yet."""
    r = client.get(f"/v1/announcements/{announcement_id}/report")
    if r.status_code == 404:
        return None
    if r.status_code >= 400:
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:200]
        raise ReportError(f"metrics answered {r.status_code}: {message}")
    report: dict[str, Any] = r.json()
    return report


class ReportError(Exception):
    """The report cannot be shown (unreachable service, rejected key ...)."""


def render(report: dict[str, Any]) -> Group:
    """Totals, then per kind and per province."""
    title = report.get("title") or ""
    summary = Table(title=f"Announcement {report['id']}  {title}".rstrip(), show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    for field in ("planned", *STATUSES):
        if field in report:
            summary.add_row(field, str(report[field]))
    summary.add_row(
        "regions reached", f"{report['regions_reached']} of {report['regions_targeted']}"
    )
    summary.add_row("first delivered", str(report.get("first_delivered_at") or "-"))
    summary.add_row("last delivered", str(report.get("last_delivered_at") or "-"))
    latency = report.get("latency_seconds")
    if latency:
        summary.add_row(
            "latency p50 / p90 / max", f"{latency['p50']}s / {latency['p90']}s / {latency['max']}s"
        )
    parts: list[Any] = [summary]
    for section in ("by_kind", "by_province"):
        rows = report.get(section) or {}
        if not rows:
            continue
        table = Table(title=section.replace("_", " "))
        table.add_column(section.removeprefix("by_"))
        for status in (*STATUSES, "total"):
            table.add_column(status, justify="right")
        for name, counts in rows.items():
            table.add_row(name, *(str(counts.get(s, 0)) for s in (*STATUSES, "total")))
        parts.append(table)
    return Group(*parts)


def report(
    announcement_id: Annotated[str, typer.Argument(help="The announcement id.")],
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Refresh with a progress bar until nothing is pending."
        ),
    ] = False,
    metrics_url: MetricsUrl = METRICS_URL,
    api_key: ApiKey = None,
    every: Annotated[
        float, typer.Option(min=0.1, help="Seconds between refreshes with --follow.")
    ] = 1.0,
    timeout: Annotated[
        float, typer.Option(min=1, help="With --follow, give up after this many seconds.")
    ] = 3600.0,
) -> None:
    """Show an announcement's delivery report; --follow shows progress until it completes."""
    headers = {"Authorization": f"Bearer {resolve_key(api_key)}"}
    try:
        with httpx.Client(base_url=metrics_url, headers=headers, timeout=10.0) as client:
            if follow:
                code = _follow(client, announcement_id, every, timeout)
            else:
                found = fetch(client, announcement_id)
                if found is None:
                    err.print(f"[red]No announcement {announcement_id!r} in the ledger (yet).[/]")
                    code = 1
                else:
                    out.print(render(found))
                    code = 0
    except httpx.HTTPError as exc:
        err.print(f"[red]Cannot reach the metrics service at {metrics_url}:[/] {exc}")
        raise typer.Exit(1) from None
    except ReportError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _follow(client: httpx.Client, announcement_id: str, every: float, timeout: float) -> int:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=out,
    )
    task = progress.add_task("waiting for the ledger", total=None, detail="")
    deadline = time.monotonic() + timeout
    last: dict[str, Any] | None = None
    with Live(progress, console=out, refresh_per_second=8, transient=False) as live:
        while True:
            last = fetch(client, announcement_id)
            if last is not None:
                planned = int(last["planned"])
                done = planned - int(last["pending"])
                detail = " ".join(
                    f"{s} {last[s]}" for s in STATUSES if s != "pending" and last.get(s)
                )
                progress.update(
                    task,
                    description="delivering",
                    total=planned or None,
                    completed=done,
                    detail=detail,
                )
                if planned and not last["pending"]:
                    progress.update(task, description="complete")
                    live.update(Group(progress, render(last)))
                    return 0
            if time.monotonic() >= deadline:
                break
            time.sleep(every)
    if last is not None:
        out.print(render(last))
    err.print(f"[yellow]Still pending after {timeout:.0f}s.[/]")
    return 3
