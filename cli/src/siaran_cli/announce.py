"""`siaran announce|submit|approve|reject|edit|cancel`: an announcement's way through ingest.

A key with the publish role publishes at once; a key with only the draft role submits for
approval, which another key with the approve role gives (never the one that submitted). Each
command prints `ID STATUS` on stdout (for scripts) and what happens next on stderr."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.markup import escape

from siaran_cli.api import INGEST_URL, ApiKey, IngestUrl, answer, err, out, read_document, service

Source = Annotated[
    str, typer.Argument(metavar="FILE|-", help="The announcement as JSON or YAML; - reads stdin.")
]
Id = Annotated[str, typer.Argument(metavar="ID", help="The announcement id.")]

NEXT = {
    "draft": "stored as a draft: nothing goes out until `siaran submit {id}`",
    "pending_approval": "waits for approval by another key with the approve role: "
    "`siaran approve {id}`",
    "accepted": "published: `siaran report {id} --follow` and `siaran deliveries {id}` "
    "show where it went",
    "rejected": "rejected: nothing goes out",
    "cancelled": "cancelled: nothing more goes out; what was posted is retracted where the "
    "platform allows it (`siaran deliveries {id}`)",
}


def path_of(announcement_id: str, action: str = "") -> str:
    return f"/v1/announcements/{quote(announcement_id, safe='')}" + (f"/{action}" if action else "")


def _show(body: dict[str, Any], announcement_id: str = "") -> None:
    """`ID STATUS` on stdout, what it means on stderr."""
    ident, status = str(body.get("id") or announcement_id), str(body.get("status", "?"))
    out.print(escape(f"{ident} {status}"), soft_wrap=True)
    if status in NEXT:
        err.print(escape(NEXT[status].format(id=ident)))


def _call(
    ingest_url: str, api_key: str | None, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    with service("ingest", ingest_url, api_key) as client:
        response: httpx.Response = client.request(method, path, json=body)
    return answer(response, "ingest")


def announce(
    file: Source,
    draft: Annotated[
        bool, typer.Option("--draft", help="Only store it as a draft: nothing goes out.")
    ] = False,
    ingest_url: IngestUrl = INGEST_URL,
    api_key: ApiKey = None,
) -> None:
    """Submit an announcement: published at once by a publish key, else it waits for approval."""
    doc = read_document(file)
    if draft:
        doc["draft"] = True
    _show(_call(ingest_url, api_key, "POST", "/v1/announcements", doc))


def submit(announcement_id: Id, ingest_url: IngestUrl = INGEST_URL, api_key: ApiKey = None) -> None:
    """Submit a draft: it waits for approval (or is published, for a publish key)."""
    _show(_call(ingest_url, api_key, "POST", path_of(announcement_id, "submit")), announcement_id)


def approve(
    announcement_id: Id, ingest_url: IngestUrl = INGEST_URL, api_key: ApiKey = None
) -> None:
    """Approve an announcement another key submitted: it is published."""
    _show(_call(ingest_url, api_key, "POST", path_of(announcement_id, "approve")), announcement_id)


def reject(
    announcement_id: Id,
    reason: Annotated[
        str, typer.Option("--reason", help="Why; the writer sees it in the history.")
    ],
    ingest_url: IngestUrl = INGEST_URL,
    api_key: ApiKey = None,
) -> None:
    """Reject an announcement another key submitted, with a reason."""
    if not reason.strip():
        err.print("[red]--reason must not be empty")
        raise typer.Exit(2)
    body = {"reason": reason.strip()}
    _show(_call(ingest_url, api_key, "POST", path_of(announcement_id, "reject"), body),
          announcement_id)  # fmt: skip


def cancel(
    announcement_id: Id,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why; kept with the cancellation.")
    ] = None,
    ingest_url: IngestUrl = INGEST_URL,
    api_key: ApiKey = None,
) -> None:
    """Cancel a published announcement: deliveries not yet posted stop, posted ones are
    retracted where the platform allows it. Cancelling again is harmless."""
    body = {"reason": reason.strip()} if reason and reason.strip() else None
    _show(_call(ingest_url, api_key, "POST", path_of(announcement_id, "cancel"), body),
          announcement_id)  # fmt: skip


def edit(
    announcement_id: Id, file: Source, ingest_url: IngestUrl = INGEST_URL, api_key: ApiKey = None
) -> None:
    """Replace a draft (or one waiting for approval), or correct a published announcement.

    A replaced announcement is a draft again; a correction is published as the next revision
    to the same channels."""
    doc = read_document(file)
    if doc.get("id", announcement_id) != announcement_id:
        err.print(f"[red]the file's id {doc['id']!r} is not {announcement_id!r}")
        raise typer.Exit(2)
    before = _call(ingest_url, api_key, "GET", path_of(announcement_id)).get("revision")
    body = _call(ingest_url, api_key, "PUT", path_of(announcement_id), doc)
    if body.get("status") != "accepted":
        _show(body, announcement_id)
        return
    revision = body.get("revision")
    if revision is None:  # the answer may leave it out: the announcement has it
        revision = _call(ingest_url, api_key, "GET", path_of(announcement_id)).get("revision")
    out.print(escape(f"{announcement_id} accepted revision {revision}"), soft_wrap=True)
    if revision == before:
        err.print(f"unchanged: revision {revision} has this content already; nothing is sent")
        return
    err.print(
        escape(
            f"correction published as revision {revision}: channels that posted the announcement "
            "get it as an update; deliveries of the earlier revision not yet posted are "
            f"replaced, never posted as well. `siaran deliveries {announcement_id}` shows them"
        )
    )
