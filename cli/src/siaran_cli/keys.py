"""`siaran keys`: API keys are shown once at creation and stored only as hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from siaran_shared.auth import ApiKey, InvalidRole, InvalidScope, KeyRing
from siaran_shared.settings import Settings

app = typer.Typer(no_args_is_help=True)
out = Console()
err = Console(stderr=True)

KeysFile = Annotated[
    Path | None,
    typer.Option(
        "--keys-file", help="Keys file (default: SIARAN_API_KEYS_FILE or .siaran/api-keys.json)"
    ),
]


def keyring(path: Path | None) -> KeyRing:
    return KeyRing(path or Settings().resolved_api_keys_file)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    scope: Annotated[
        str, typer.Option("--scope", help="national, admin, province:73 or regency:73.03")
    ],
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="publish (default), draft or approve; repeat for several. Admin implies all.",
        ),
    ] = None,
    keys_file: KeysFile = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    ring = keyring(keys_file)
    if any(k.name == name and k.revoked_at is None for k in ring.all_keys()):
        err.print(f"[red]a key named {name!r} exists already; revoke it or pick another name")
        raise typer.Exit(2)
    try:
        key, token = ring.create(name, scope, role or ())
    except (InvalidScope, InvalidRole) as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    err.print(
        f"created key [bold]{key.name}[/] ({key.scope}; roles {_roles(key)}), "
        f"id {key.id}, in {ring.path}"
    )
    err.print("[yellow]store it now: it is shown only once")
    out.print(token, highlight=False, soft_wrap=True)


def _roles(key: ApiKey) -> str:
    """What the key may do, as `create` and `list` both say it (an admin key may do all)."""
    return "all (admin)" if key.parsed_scope.is_admin else ",".join(key.roles)


@app.command("list")
def list_keys(keys_file: KeysFile = None) -> None:
    """List keys (never their values)."""
    keys = keyring(keys_file).all_keys()
    table = Table()
    # ids and names are what a person copies into the next command: never cut short
    for title, values in (("id", [k.id for k in keys]), ("name", [k.name for k in keys])):
        table.add_column(title, no_wrap=True, min_width=max(map(len, values), default=2))
    for title in ("scope", "roles", "created", "revoked"):
        table.add_column(title)
    for k in keys:
        table.add_row(k.id, k.name, k.scope, _roles(k), k.created_at[:16],
                      (k.revoked_at or "")[:16])  # fmt: skip
    out.print(table)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="Key id or name.")], keys_file: KeysFile = None
) -> None:
    """Revoke a key; services refuse it from their next request."""
    revoked = keyring(keys_file).revoke(key)
    if not revoked:
        err.print(f"[red]no active key with id or name {key!r}")
        raise typer.Exit(1)
    for k in revoked:
        out.print(f"revoked {k.name} ({k.id})")
