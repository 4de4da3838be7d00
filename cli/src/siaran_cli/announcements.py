"""`siaran announcements list|show`: the announcements a key may see, from ingest, with their
status, revision, who submitted them and every step of their history."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from siaran_cli.announce import Id, path_of
from siaran_cli.api import INGEST_URL, ApiKey, IngestUrl, answer, collect, err, out, service

app = typer.Typer(no_args_is_help=True)

STATUSES = ("draft", "pending_approval", "accepted", "rejected", "cancelled", "completed")


def _when(value: Any) -> str:
    return str(value or "")[:19].replace("T", " ")


def _status(item: dict[str, Any]) -> str:
    """`accepted`, or `accepted r2` for a corrected announcement."""
    revision = item.get("revision") or 1
    return f"{item.get('status')}" + (f" r{revision}" if revision != 1 else "")


def target_text(target: dict[str, Any] | None) -> str:
    """A target in words: `national` or `provinces 73; regencies 71.71; kinds web, x`."""
    target = target or {}
    parts = ["national"] if target.get("national") else []
    for field in ("provinces", "regencies", "zones", "kinds", "tags"):
        if target.get(field):
            parts.append(f"{field} {', '.join(map(str, target[field]))}")
    return "; ".join(parts) or "-"


@app.command("list")
def list_announcements(
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only this status: {', '.join(STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 50,
    ingest_url: IngestUrl = INGEST_URL,
    api_key: ApiKey = None,
) -> None:
    """The announcements inside the key's scope, newest first."""
    with service("ingest", ingest_url, api_key) as client:
        items, more = collect(client, "ingest", "/v1/announcements", {"status": status}, limit)
    rows = [[str(v) for v in (
        item.get("id"), _status(item), item.get("submitted_by") or "",
        _when(item.get("accepted_at"))[:16],
    )] for item in items]  # fmt: skip
    table = Table()
    # everything but the title is what a person copies or scans: never cut short
    for n, title in enumerate(("id", "status", "submitted by", "received")):
        width = max([len(title), *(len(row[n]) for row in rows)])
        table.add_column(title, no_wrap=True, min_width=width)
    table.add_column("title", no_wrap=True, overflow="ellipsis")
    for row, item in zip(rows, items, strict=True):
        table.add_row(*map(escape, row), escape(str(item.get("title") or "")))
    if items:
        out.print(table)
    shown = f"{len(items)} announcement{'s' if len(items) != 1 else ''}"
    err.print(shown + (f"; more with --limit {limit * 2}" if more else ""))


@app.command("show")
def show(announcement_id: Id, ingest_url: IngestUrl = INGEST_URL, api_key: ApiKey = None) -> None:
    """One announcement: its status, revision, who submitted it, and its history."""
    with service("ingest", ingest_url, api_key) as client:
        a = answer(client.get(path_of(announcement_id)), "ingest")
    out.print(escape(f"{a.get('id')}  {a.get('title') or ''}"), style="bold", soft_wrap=True)
    summary = Table(show_header=False)
    summary.add_column(style="bold")
    summary.add_column()
    rows = {
        "status": a.get("status"),
        "revision": a.get("revision", 1),
        "submitted by": a.get("submitted_by"),
        "target": target_text(a.get("target")),
        "priority": a.get("priority"),
        "received": _when(a.get("accepted_at")),
        "publish at": _when(a.get("publish_at")),
        "expires at": _when(a.get("expires_at")),
        "cancelled at": _when(a.get("cancelled_at")),
        "replaces": a.get("replaces"),
        "media": len(a.get("media") or ()) or None,
        "callback": a.get("callback_url"),
    }
    for name, value in rows.items():
        if value not in (None, ""):
            summary.add_row(name, escape(str(value)))
    out.print(summary)
    history = Table("at", "by", "action", "reason", title="history")
    for step in a.get("history") or ():
        history.add_row(*(escape(str(v)) for v in (
            _when(step.get("at")), step.get("by", ""), step.get("action", ""),
            step.get("reason") or "",
        )))  # fmt: skip
    out.print(history)
