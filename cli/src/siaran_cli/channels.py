"""`siaran channels import|export`: the channel registry as a YAML or CSV file.

An import sends every row to the router at once; the router validates them all and applies
the whole file or nothing, so a file with one bad row reports that row and changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from siaran_cli.api import ROUTER_URL, ApiKey, RouterUrl, answer, fail, service
from siaran_cli.bulk_import import PART_ROWS, PartRefused, import_in_parts, parts

app = typer.Typer(no_args_is_help=True)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

COLUMNS = ("id", "region", "kind", "name", "endpoint", "tags", "enabled", "rate_per_minute",
           "secret")  # fmt: skip
PAGE = 5000

Home = Annotated[Path, typer.Option("--home", envvar="SIARAN_HOME", help="Local state folder.")]


class ImportFileError(ValueError):
    """The file cannot be read as channel rows."""


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a YAML or CSV file and, for each, where it is in the file."""
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8-sig")
    if suffix in (".yaml", ".yml"):
        return _yaml_rows(text)
    if suffix == ".csv":
        return _csv_rows(text)
    raise ImportFileError(f"{path.name}: use a .yaml, .yml or .csv file")


def _yaml_rows(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(f"not valid YAML: {exc}") from exc
    rows = doc.get("channels") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise ImportFileError("expected a list of channels, or a mapping with a 'channels' list")
    return rows, [f"item {n}" for n in range(1, len(rows) + 1)]


def _csv_rows(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id", "region", "kind", "name", "endpoint"} - set(reader.fieldnames or ())
    if missing:
        raise ImportFileError(f"CSV header lacks column(s): {', '.join(sorted(missing))}")
    rows: list[dict[str, Any]] = []
    where: list[str] = []
    for record in reader:
        row: dict[str, Any] = {}
        for key, value in record.items():
            if key is None:  # more cells than header columns
                row["_extra_cells"] = value
                continue
            value = (value or "").strip()
            if not value:
                continue
            if key == "tags":
                row[key] = [t.strip() for t in value.replace("|", ";").split(";") if t.strip()]
            else:
                row[key] = value
        rows.append(row)
        where.append(f"line {reader.line_num}")
    return rows, where


def import_rows(
    client: httpx.Client, rows: Sequence[dict[str, Any]], *, dry_run: bool, prune: bool
) -> httpx.Response:
    """POST the rows to the router's import endpoint."""
    params = {"dry_run": str(dry_run).lower(), "prune": str(prune).lower()}
    return client.post("/v1/channels:import", params=params, json={"channels": list(rows)})


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or CSV file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Also remove channels that are not in the file.")
    ] = False,
    router_url: RouterUrl = ROUTER_URL,
    api_key: ApiKey = None,
    home: Home = Path(".siaran"),
) -> None:
    """Import channels: all rows are checked first; one bad row imports nothing."""
    try:
        rows, where = read_rows(file)
    except (ImportFileError, UnicodeDecodeError) as exc:
        err.print(f"[red]{file}: {exc}")
        raise typer.Exit(2) from exc
    with service("router", router_url, api_key, home=home, timeout=120.0) as client:
        try:
            summary = _import(client, rows, dry_run=dry_run, prune=prune)
        except PartRefused as refused:
            if refused.error is not None and "details" in refused.error:
                _print_row_errors(file, refused.error, where)
                raise typer.Exit(1) from None
            fail(refused.response, "router")
    _print_summary(summary)


def _import(
    client: httpx.Client, rows: list[dict[str, Any]], *, dry_run: bool, prune: bool
) -> dict[str, Any]:
    """One request for a file the router takes whole (all or nothing, as the router applies
    it); a larger file in parts (checked whole first: siaran_cli.bulk_import)."""
    if len(parts(rows)) == 1:
        response = import_rows(client, rows, dry_run=dry_run, prune=prune)
        if response.status_code != 200:
            error = response.json().get("error") if response.status_code == 422 else None
            raise PartRefused(response, error)
        body: dict[str, Any] = response.json()
        return body

    def send(part: Sequence[dict[str, Any]], dry: bool, prune_part: bool) -> httpx.Response:
        return import_rows(client, part, dry_run=dry, prune=prune_part)

    def delete(channel_id: str) -> None:
        response = client.delete(f"/v1/channels/{channel_id}")
        if response.status_code not in (200, 204, 404):
            raise PartRefused(response, None)

    summary = import_in_parts(
        send, rows, lambda: {c["id"] for c in fetch_all(client)}, delete,
        dry_run=dry_run, prune=prune,
    )  # fmt: skip
    err.print(f"imported in {summary['parts']} parts of up to {PART_ROWS:,} rows (checked whole "
              "first; if applying stops half-way, import the same file again)")  # fmt: skip
    return summary


def _print_row_errors(file: Path, error: dict[str, Any], where: list[str]) -> None:
    err.print(f"[red]{file}: {error['message']}")
    table = Table("row", "where", "id", "field", "problem", show_lines=False)
    for d in error.get("details", []):
        row = d.get("row")
        place = where[row - 1] if isinstance(row, int) and 0 < row <= len(where) else ""
        field = str(d.get("field", "")).partition(".")[2] or d.get("field", "")
        table.add_row(str(row or ""), place, str(d.get("channel_id") or ""), field, d["message"])
    err.print(table)


def _print_summary(body: dict[str, Any]) -> None:
    verb = "would " if body["dry_run"] else ""
    created, updated, removed = body["created"], body["updated"], body["removed"]
    out.print(
        f"{body['rows']} rows: {verb}create {len(created)}, {verb}update {len(updated)}, "
        f"{verb}remove {len(removed)}, unchanged {body['unchanged']}"
    )
    shown = 20
    for channel_id in created[:shown]:
        out.print(f"  + {channel_id}")
    for change in updated[:shown]:
        out.print(f"  ~ {change['id']} ({', '.join(change['fields'])})")
    for channel_id in removed[:shown]:
        out.print(f"  - {channel_id}")
    hidden = sum(max(0, len(x) - shown) for x in (created, updated, removed))
    if hidden:
        out.print(f"  … and {hidden} more")
    if body["dry_run"]:
        out.print("dry run: nothing was changed")


def fetch_all(client: httpx.Client) -> list[dict[str, Any]]:
    """Every channel in the registry, page by page, without health."""
    channels: list[dict[str, Any]] = []
    while True:
        response = client.get("/v1/channels", params={"limit": PAGE, "offset": len(channels)})
        body = answer(response, "router")
        channels += [{k: v for k, v in c.items() if k != "health"} for c in body["items"]]
        if not body["items"] or len(channels) >= body["total"]:
            return channels


def to_yaml(channels: list[dict[str, Any]]) -> str:
    rows = [{k: v for k, v in c.items() if v is not None} for c in channels]
    return yaml.safe_dump({"channels": rows}, sort_keys=False, allow_unicode=True)


def to_csv(channels: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for c in channels:
        tags = ";".join(c.get("tags") or ())
        values = {k: "" if v is None else v for k, v in c.items()}
        writer.writerow({**values, "tags": tags, "enabled": str(c.get("enabled", True)).lower()})
    return buffer.getvalue()


@app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File; .csv writes CSV.")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="yaml or csv.")] = None,
    router_url: RouterUrl = ROUTER_URL,
    api_key: ApiKey = None,
    home: Home = Path(".siaran"),
) -> None:
    """Export the registry as YAML or CSV that `siaran channels import` reads back."""
    fmt = (fmt or ("csv" if output and output.suffix.lower() == ".csv" else "yaml")).lower()
    if fmt not in ("yaml", "csv"):
        err.print("[red]--format must be yaml or csv")
        raise typer.Exit(2)
    with service("router", router_url, api_key, home=home, timeout=120.0) as client:
        channels = fetch_all(client)
    text = to_csv(channels) if fmt == "csv" else to_yaml(channels)
    if output is None:
        sys.stdout.write(text)
    else:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
        err.print(f"exported {len(channels)} channels to {output}")
