"""What every `siaran` command that calls a service shares: where the services are, which API
key it sends, how it reads an announcement from a file or stdin, and how it shows an API
error (the message, then one line per offending field, exit code 1)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
import yaml
from rich.console import Console
from rich.markup import escape

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="SIARAN_API_KEY",
        help="API key (default: SIARAN_API_KEY, else the dev key in .siaran/dev-api-key).",
        show_default=False,
    ),
]
IngestUrl = Annotated[
    str, typer.Option("--ingest-url", envvar="SIARAN_INGEST_URL", help="The ingest's base URL.")
]
RouterUrl = Annotated[
    str, typer.Option("--router-url", envvar="SIARAN_ROUTER_URL", help="The router's base URL.")
]
MetricsUrl = Annotated[
    str,
    typer.Option("--metrics-url", envvar="SIARAN_METRICS_URL", help="The metrics' base URL."),
]
INGEST_URL, ROUTER_URL, METRICS_URL = (f"http://127.0.0.1:{p}" for p in (8000, 8001, 8003))
#: items asked for per request when a command follows `next_cursor`
PAGE = 100


def resolve_key(api_key: str | None, home: Path | None = None) -> str:
    """The key given, else the dev key `siaran dev` wrote; none at all is exit code 2."""
    if api_key and api_key.strip():
        return api_key.strip()
    path = (home or Path(os.environ.get("SIARAN_HOME") or ".siaran")) / "dev-api-key"
    if path.is_file():
        return path.read_text().strip()
    err.print(f"[red]no API key: pass --api-key or SIARAN_API_KEY, or start `siaran dev` ({path})")
    raise typer.Exit(2)


@contextmanager
def service(
    name: str, url: str, api_key: str | None, *, home: Path | None = None, timeout: float = 30.0
) -> Iterator[httpx.Client]:
    """A client of one service sending the key; an unreachable service is a clear exit 1."""
    headers = {"Authorization": f"Bearer {resolve_key(api_key, home)}"}
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
            yield client
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach the {name} at {url}:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def answer(response: httpx.Response, name: str) -> dict[str, Any]:
    """The JSON body of a 2xx answer; any other is shown with its details (exit 1)."""
    if not response.is_success:
        fail(response, name)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        err.print(f"[red]the {name} answered {response.status_code} without a JSON object")
        raise typer.Exit(1)
    return body


def fail(response: httpx.Response, name: str) -> NoReturn:
    """Print the API's error: status, message and each field it names; exit code 1."""
    details: list[Any] = []
    try:
        error = response.json()["error"]
        message = str(error["message"])
        details = list(error.get("details") or [])
    except (ValueError, KeyError, TypeError):
        message = response.text[:300] or response.reason_phrase
    err.print(f"[red]the {name} answered {response.status_code}:[/] {escape(message)}")
    for detail in details:
        if isinstance(detail, dict):
            where = detail.get("field") or detail.get("channel_id") or ""
            text = detail.get("message") or json.dumps(detail, ensure_ascii=False)
            err.print(escape(f"  {where}: {text}" if where else f"  {text}"))
        else:
            err.print(escape(f"  {detail}"))
    raise typer.Exit(1)


def collect(
    client: httpx.Client, name: str, path: str, params: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a list the API pages with `next_cursor`, and whether more remain."""
    items: list[dict[str, Any]] = []
    query = {k: v for k, v in params.items() if v is not None}
    while True:
        query["limit"] = min(PAGE, limit - len(items))
        body = answer(client.get(path, params=query), name)
        page = [item for item in body.get("items") or () if isinstance(item, dict)]
        items += page
        cursor = body.get("next_cursor")
        if not cursor or not page or len(items) >= limit:
            return items[:limit], bool(cursor)
        query["cursor"] = cursor


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: `publish_at: 2026-01-15T09:00:00+07:00` stays the
    text it was written as, for the API to read."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_document(source: str) -> dict[str, Any]:
    """An announcement body from a JSON or YAML file, or from stdin for `-` (exit 2 if not)."""
    where = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]cannot read {where}:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            err.print(f"[red]{where} is neither JSON nor YAML:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    if not isinstance(doc, dict):
        err.print(f"[red]{where}: expected one announcement (a mapping of fields)")
        raise typer.Exit(2)
    try:
        json.dumps(doc)
    except (TypeError, ValueError) as exc:  # YAML's !!binary, !!set ...
        err.print(f"[red]{where}: not sendable as JSON:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    return doc
