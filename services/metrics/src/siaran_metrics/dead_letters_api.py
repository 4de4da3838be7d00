"""The dead-letters API (admin scope): list and read what `siaran.dlq.v1` received, and replay
a dead letter to the topic it came from, as `siaran dlq replay` does (the same
`siaran_shared.messaging.replay`: the original bytes, key and headers, without the dead-letter
headers, with `siaran-replayed-at`).

The inbound topic's `authorization` header never reaches a dead letter, so an inbound message
replayed from here comes back without its API key, and ingest refuses it again as unauthorised:
the sender must send it again. Replays are for what failed for a reason that is gone (a
channel that was down, a schema a service did not know yet).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from siaran_shared.events.topics import DLQ, TOPICS
from siaran_shared.http import AdminKey, ApiError
from siaran_shared.logging import get_logger
from siaran_shared.messaging import replay
from siaran_shared.responses import UNAUTHORIZED, Responses, error_doc, invalid
from siaran_shared.service import Runtime

from siaran_metrics.dead_letters import DeadLetter, DeadLetters, InvalidCursor, StoredLetter

log = get_logger(__name__)

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])

#: Topics a replay may produce to: Siaran's own, never the dead-letter topic itself.
REPLAYABLE = frozenset(spec.name for spec in TOPICS) - {DLQ}
LetterId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="The dead letter's id")]


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: no more")


class DeadLetterDetail(DeadLetter, frozen=True):
    """A dead letter with a redacted preview of its body and its headers."""

    headers: dict[str, str] = Field(description="The original record's headers, less credentials")
    preview: str = Field(description="The body as text, credentials cut out, at most 2000 chars")
    preview_truncated: bool

    @classmethod
    def of(cls, stored: StoredLetter) -> DeadLetterDetail:
        text, truncated = stored.preview()
        return cls(**dict(stored.letter), headers=stored.shown_headers(), preview=text,
                   preview_truncated=truncated)  # fmt: skip


FORBIDDEN = error_doc("The key is not an admin key", "forbidden",
                      "this endpoint needs an admin key; key 'sulsel' is province:73")  # fmt: skip
NOT_FOUND = error_doc("No dead letter with this id", "not_found",
                      "no dead letter '3f9a1c0b7d2e4a5b6c7d8e9f'")  # fmt: skip
COMMON: Responses = {**UNAUTHORIZED, 403: FORBIDDEN}
REPLAY_RESPONSES: Responses = {
    **COMMON,
    404: NOT_FOUND,
    409: error_doc("Replayed already (use force=true), or no Siaran topic to return to",
                   "conflict", "dead letter '3f9a…' was replayed at 2026-01-15T08:00:00+00:00 "
                   "by 'ops'; add force=true to replay it again"),
    **invalid("letter_id, force"),
    503: error_doc("Kafka did not confirm; the dead letter is not marked replayed",
                   "unavailable", "could not produce the replay; try again",
                   headers={"Retry-After": "Seconds to wait"}),
}  # fmt: skip


def _letters(request: Request) -> DeadLetters:
    letters: DeadLetters = request.app.state.dead_letters
    return letters


async def _stored(request: Request, letter_id: str) -> StoredLetter:
    stored = await _letters(request).get(letter_id)
    if stored is None:
        raise ApiError(404, f"no dead letter {letter_id!r}")
    return stored


@router.get(
    "",
    response_model=DeadLetterPage,
    summary="Dead letters, newest first",
    responses={**COMMON, **invalid("origin, replayed, limit, cursor")},
)
async def list_dead_letters(
    request: Request,
    _: AdminKey,
    origin: Annotated[str | None, Query(max_length=249, description="Only from this topic")] = None,
    replayed: Annotated[bool | None, Query(description="Only replayed (or not) ones")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> DeadLetterPage:
    try:
        items, next_cursor = await _letters(request).page(
            origin=origin, replayed=replayed, limit=limit, cursor=cursor
        )
    except InvalidCursor as exc:
        raise ApiError(422, f"invalid cursor: {exc}",
                       details=[{"field": "cursor", "message": str(exc)}]) from None  # fmt: skip
    return DeadLetterPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{letter_id}",
    response_model=DeadLetterDetail,
    summary="One dead letter, with a redacted preview of its body",
    responses={**COMMON, 404: NOT_FOUND, **invalid("letter_id")},
)
async def read_dead_letter(request: Request, _: AdminKey, letter_id: LetterId) -> DeadLetterDetail:
    return DeadLetterDetail.of(await _stored(request, letter_id))


@router.post(
    "/{letter_id}/replay",
    response_model=DeadLetter,
    summary="Produce the original record back to its topic and mark it replayed",
    description=(
        "The original bytes, key and headers go back to the origin topic, without the "
        "dead-letter headers and with `siaran-replayed-at`. A dead letter replayed before is "
        "a 409 unless `force=true`. An inbound message comes back without its API key (never "
        "kept), so ingest refuses it again."
    ),
    responses=REPLAY_RESPONSES,
)
async def replay_dead_letter(
    request: Request,
    admin: AdminKey,
    letter_id: LetterId,
    force: Annotated[bool, Query(description="Replay even if replayed before")] = False,
) -> DeadLetter:
    stored = await _stored(request, letter_id)
    letter = stored.letter
    if letter.origin_topic not in REPLAYABLE:
        raise ApiError(409, f"dead letter {letter_id!r} came from {letter.origin_topic!r}, "
                            "not a Siaran topic it can go back to")  # fmt: skip
    if letter.replay_count and not force:
        raise _replayed(letter)
    claimed = await _letters(request).claim_replay(letter, admin.name)
    if claimed is None:  # another replay won the race
        raise _replayed((await _stored(request, letter_id)).letter)
    runtime: Runtime = request.app.state.runtime
    try:
        await replay(runtime.broker, [stored.replay()])
    except Exception as exc:  # the broker refused or is down: nothing was replayed
        await _letters(request).release_replay(claimed, letter)
        log.warning("dead_letter_replay_failed", id=letter_id, error=type(exc).__name__)
        raise ApiError(503, "could not produce the replay; try again",
                       headers={"Retry-After": "5"}) from None  # fmt: skip
    log.info("dead_letter_replayed", id=letter_id, origin_topic=letter.origin_topic,
             by=admin.name, count=claimed.replay_count)  # fmt: skip
    return claimed


def _replayed(letter: DeadLetter) -> ApiError:
    when = letter.replayed_at.isoformat() if letter.replayed_at else "an earlier time"
    return ApiError(
        409,
        f"dead letter {letter.id!r} was replayed at {when} by {letter.replayed_by!r}; "
        "add force=true to replay it again",
    )
