"""`siaran preview FILE|-`: what each channel kind would receive, from the router's
`POST /v1/previews` (the fan-out's own rendering; nothing is stored or sent)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from siaran_cli.announce import Source
from siaran_cli.api import ROUTER_URL, ApiKey, RouterUrl, answer, out, read_document, service

#: the length of a text's first line shown in the table; --text prints the whole text
FIRST_LINE = 60


def first_line(text: str) -> str:
    line = next((part for part in text.splitlines() if part.strip()), "").strip()
    return line if len(line) <= FIRST_LINE else line[: FIRST_LINE - 1] + "…"


def kinds_table(preview: dict[str, Any]) -> Table:
    table = Table(title=f"{preview['channels']} channels in {preview['regions']} regions")
    table.add_column("kind", no_wrap=True)
    table.add_column("channels", justify="right")
    table.add_column("length / limit", justify="right", no_wrap=True)
    table.add_column("unit")
    table.add_column("truncated")
    table.add_column("text (first line)")
    for kind, p in sorted(preview["by_kind"].items()):
        limit = "no limit" if p.get("limit") is None else str(p["limit"])
        over = p.get("limit") is not None and p["length"] > p["limit"]
        size = f"{p['length']} / {limit}"
        table.add_row(escape(kind), str(p["channels"]), f"[red]{size}[/]" if over else size,
                      escape(str(p["unit"])), "[yellow]yes[/]" if p["truncated"] else "no",
                      escape(first_line(p["text"])))  # fmt: skip
    return table


def describe(warning: dict[str, Any]) -> str:
    """One warning in words."""
    code, channels = warning.get("code"), warning.get("channels", 0)
    kind = warning.get("kind")
    if code == "media_required":
        skipped = warning.get("skipped")
        return (f"{kind}: {channels} channels need a picture or video and the announcement has "
                f"none" + (f"; {skipped} of them (native adapters) would be skipped"
                           if skipped else ""))  # fmt: skip
    if code == "no_channels":
        named = ", ".join(
            f"{field} {warning[field]}" for field in ("kind", "region", "tag") if warning.get(field)
        )
        return f"no channel for {named}: the target names it, nothing would be sent there"
    if code == "truncated":
        return f"{kind}: the text is cut to fit the limit on {channels} channels"
    rest = {k: v for k, v in warning.items() if k != "code"}
    return f"{code}: {rest}"


def preview(
    file: Source,
    text: Annotated[
        bool, typer.Option("--text", help="Also print the whole text each kind receives.")
    ] = False,
    router_url: RouterUrl = ROUTER_URL,
    api_key: ApiKey = None,
) -> None:
    """Preview per channel kind: length and limit, cut short or not, channels, warnings.

    Nothing is stored or sent; the text is what the fan-out would send."""
    doc = read_document(file)
    with service("router", router_url, api_key) as client:
        response = client.post("/v1/previews", json=doc)
    body = answer(response, "router")
    out.print(kinds_table(body))
    if text:
        for kind, p in sorted(body["by_kind"].items()):
            out.print(Panel(escape(p["text"]), title=kind, title_align="left"))
    warnings = body.get("warnings") or []
    if not body["by_kind"]:
        out.print("[yellow]the target matches no channel: nothing would be sent")
    for warning in warnings:
        out.print(f"[yellow]warning[/] {escape(describe(warning))}", soft_wrap=True)
    if not warnings:
        out.print("no warnings")
