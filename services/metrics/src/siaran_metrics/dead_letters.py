"""The dead letters metrics keeps from `siaran.dlq.v1`, for admins to read and replay.

Each record on the dead-letter topic is kept whole (its bytes, key and headers, less any
header that may carry a credential), so a replay produces exactly what was dead-lettered; what
people see of it is a redacted preview (`dead_letters_preview`). The repository is the only
place that speaks the store; a replay is claimed (an atomic update on the replay count) before
the record is produced, and released again when producing fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_serializer
from siaran_shared.events import utcnow
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Replay
from siaran_shared.messaging.dead_letters import DEAD_LETTER_HEADERS
from siaran_shared.messaging.headers import Header, is_sensitive
from siaran_shared.store import Collection

from siaran_metrics.dead_letters_preview import preview, redact_text, shown_headers

log = get_logger(__name__)


class InvalidCursor(ValueError):
    """A cursor that is not one this service gave out."""


class DeadLetter(BaseModel, frozen=True):
    """One dead letter: where it came from, why, and whether it was replayed."""

    id: str
    origin_topic: str
    origin_partition: int | None
    origin_offset: int | None
    key: str | None
    error: str
    dead_lettered_by: str
    dead_lettered_at: str | None
    received_at: datetime
    size: int
    replay_count: int = 0
    replayed_at: datetime | None = None
    replayed_by: str | None = None

    @field_serializer("received_at", "replayed_at", when_used="json")
    def _time(self, value: datetime | None) -> str | None:
        # One fixed width, so the store's string order is the time order (pydantic drops
        # zero microseconds, and "…00Z" would sort after "…00.5Z").
        return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


class StoredLetter(BaseModel, frozen=True):
    """A dead letter with the record itself: what a replay produces and a preview shows."""

    letter: DeadLetter
    key: bytes | None
    value: bytes
    headers: list[Header]

    def preview(self) -> tuple[str, bool]:
        return preview(self.value)

    def shown_headers(self) -> dict[str, str]:
        return shown_headers(self.headers)

    def replay(self) -> Replay:
        return Replay.of(self.letter.origin_topic, self.key, self.value, self.headers)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def document_of(raw: Any, now: datetime) -> dict[str, Any]:
    """The stored document of a record consumed from the dead-letter topic."""
    text = {k: (v or b"").decode(errors="replace") for k, v in (raw.headers or ())}
    # Kept for the replay: the original headers, less any credential (what dead-lettering
    # added is in the fields above, and a replay drops it anyway).
    headers = [(k, v or b"") for k, v in (raw.headers or ())
               if not is_sensitive(k) and not k.startswith(DEAD_LETTER_HEADERS)]  # fmt: skip
    origin = (text.get("siaran-origin-topic", ""), text.get("siaran-origin-partition"),
              text.get("siaran-origin-offset"))  # fmt: skip
    by, at = text.get("siaran-dead-lettered-by", ""), text.get("siaran-dead-lettered-at")
    # The same dead letter consumed again (metrics restarted before committing) has the same
    # id; the same poison dead-lettered again is another record, so another dead letter. The
    # record's time is in it because a broker that forgot its topics counts offsets anew.
    where = (raw.partition, raw.offset, raw.timestamp)
    identity = [by, *map(str, origin), str(at), *map(str, where)]
    value: bytes = raw.value or b""
    letter = DeadLetter(
        id=hashlib.sha256("|".join(identity).encode()).hexdigest()[:24],
        origin_topic=origin[0],
        origin_partition=_int(origin[1]),
        origin_offset=_int(origin[2]),
        key=redact_text(raw.key.decode(errors="replace")) if raw.key is not None else None,
        error=redact_text(text.get("siaran-error", "")),
        dead_lettered_by=by,
        dead_lettered_at=at,
        received_at=now,
        size=len(value),
    )
    return letter.model_dump(mode="json") | {
        "record": {
            "key": _b64(raw.key) if raw.key is not None else None,
            "value": _b64(value),
            "headers": [[k, _b64(v)] for k, v in headers],
        }
    }


def _stored(doc: dict[str, Any]) -> StoredLetter:
    record = doc["record"]
    return StoredLetter(
        letter=DeadLetter.model_validate({k: v for k, v in doc.items() if k != "record"}),
        key=base64.b64decode(record["key"]) if record["key"] is not None else None,
        value=base64.b64decode(record["value"]),
        headers=[(k, base64.b64decode(v)) for k, v in record["headers"]],
    )


def encode_cursor(letter: DeadLetter) -> str:
    position = [letter.model_dump(mode="json")["received_at"], letter.id]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (received_at, id) a cursor points after; InvalidCursor if it is none of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        received_at, letter_id = json.loads(raw)
        datetime.fromisoformat(received_at)
    except (ValueError, TypeError, binascii.Error):
        raise InvalidCursor("not a cursor this API gave out; start again without one") from None
    if not isinstance(letter_id, str):
        raise InvalidCursor("not a cursor this API gave out; start again without one")
    return received_at, letter_id


class DeadLetters:
    """The repository of dead letters, newest first."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def record(self, raws: Sequence[Any]) -> None:
        """Keep records consumed from the dead-letter topic (one consumed again: no change)."""
        now = utcnow()
        docs = [document_of(raw, now) for raw in raws]
        kept = await self._collection.insert_many({d["id"]: d for d in docs})
        log.info("dead_letters_kept", count=len(kept))

    async def page(
        self, *, origin: str | None, replayed: bool | None, limit: int, cursor: str | None
    ) -> tuple[list[DeadLetter], str | None]:
        """Up to `limit` dead letters after `cursor`, and the cursor of the next page."""
        where: dict[str, Any] = {}
        if origin is not None:
            where["origin_topic"] = origin
        if replayed is not None:
            where["replay_count"] = {"$gt": 0} if replayed else 0
        if cursor is not None:
            at, after = decode_cursor(cursor)
            where["$or"] = [{"received_at": {"$lt": at}},
                            {"received_at": at, "id": {"$lt": after}}]  # fmt: skip
        docs = await self._collection.find(
            where or None, order_by="received_at", descending=True, limit=limit + 1
        )
        letters = [_stored(d).letter for d in docs[:limit]]
        more = len(docs) > limit
        return letters, encode_cursor(letters[-1]) if more and letters else None

    async def get(self, letter_id: str) -> StoredLetter | None:
        doc = await self._collection.get(letter_id)
        return _stored(doc) if doc is not None else None

    async def claim_replay(self, letter: DeadLetter, by: str) -> DeadLetter | None:
        """Mark a dead letter replayed once more, unless another replay did meanwhile."""
        changes = {"replay_count": letter.replay_count + 1, "replayed_at": utcnow(),
                   "replayed_by": by}  # fmt: skip
        claimed = letter.model_copy(update=changes)
        done = await self._collection.update(
            letter.id, _replay_fields(claimed), where={"replay_count": letter.replay_count}
        )
        return claimed if done else None

    async def release_replay(self, claimed: DeadLetter, before: DeadLetter) -> None:
        """Undo a claim whose record could not be produced."""
        await self._collection.update(
            claimed.id, _replay_fields(before), where={"replay_count": claimed.replay_count}
        )


def _replay_fields(letter: DeadLetter) -> dict[str, Any]:
    return letter.model_dump(mode="json", include={"replay_count", "replayed_at", "replayed_by"})
