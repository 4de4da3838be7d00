"""`siaran deliveries ID`: every delivery of an announcement from the metrics ledger (which
channel, where, its status, how many attempts, why it failed), filtered like the API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from siaran_cli.announce import Id, path_of
from siaran_cli.api import METRICS_URL, ApiKey, MetricsUrl, collect, err, out, service

REASON = 80


def deliveries(
    announcement_id: Id,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only this status: delivered, failed, pending, skipped ..."),
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", help="Only regions of this province (73).")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this channel kind (x).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 500,
    metrics_url: MetricsUrl = METRICS_URL,
    api_key: ApiKey = None,
) -> None:
    """An announcement's deliveries: channel, region, kind, status, attempts and reason."""
    params = {"status": status, "province": province, "kind": kind}
    with service("metrics", metrics_url, api_key) as client:
        items, more = collect(
            client, "metrics", path_of(announcement_id, "deliveries"), params, limit
        )
    table = Table()
    width = max((len(str(i.get("channel_id"))) for i in items), default=7)
    table.add_column("channel", no_wrap=True, min_width=width)
    revisions = any("revision" in d for d in items)  # beyond the contract's fields: shown if given
    for title in ("region", "kind", "status", "attempts", *(("rev",) * revisions), "reason"):
        table.add_column(title, justify="right" if title in ("attempts", "rev") else "left")
    for d in items:
        reason = str(d.get("reason") or "")
        if d.get("fallback_of"):
            reason = f"fallback for {d['fallback_of']}" + (f": {reason}" if reason else "")
        table.add_row(*(escape(str(v)) for v in (
            d.get("channel_id"), d.get("region"), d.get("kind"), d.get("status"),
            d.get("attempts", ""), *((d.get("revision", ""),) * revisions),
            reason if len(reason) <= REASON else reason[: REASON - 1] + "…",
        )))  # fmt: skip
    if items:
        out.print(table)
    chosen = ", ".join(f"{k} {v}" for k, v in params.items() if v is not None)
    summary = f"{len(items)} deliveries" + (f" ({chosen})" if chosen else "")
    err.print(summary + (f"; more with --limit {limit * 2}" if more else ""))
