"""Completion callbacks: one CloudEvent `id.siaran.announcement.completed.v1` (structured
JSON, data the report) POSTed to the announcement's `callback_url`, signed like a webhook
when `callback_secret` names a secret, and retried like a delivery (408, 429 and 5xx with
exponential backoff and jitter, honouring Retry-After; other 4xx are final) on a schedule
kept in the store, so a restart resumes it. At most once per revision: a callback answered
2xx is never sent again (a crash between the answer and its record can send it once more,
with the same id and Idempotency-Key for the receiver to recognise)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiohttp
from pydantic_core import to_json
from siaran_shared.events import AnnouncementCompleted, utcnow
from siaran_shared.guard import GuardedResolver
from siaran_shared.logging import get_logger
from siaran_shared.retrying import RetryPolicy, failure_of, retried_status, retry_after_seconds
from siaran_shared.secrets import MissingSecret, Secrets
from siaran_shared.signing import signed_headers
from yarl import URL

from siaran_metrics.completions import CallbackState, CompletionRecord, Completions, stamp

log = get_logger(__name__)

CONTENT_TYPE = "application/cloudevents+json"


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # 408, 429, 5xx, timeouts, connection errors
    FINAL = "final"  # other 4xx, a refused address, a missing secret


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt came to; `summary` never holds a secret or the receiver's text."""

    verdict: Verdict
    summary: str
    retry_after: float | None = None


def callback_body(record: CompletionRecord) -> bytes:
    """The structured CloudEvent the callback URL receives: data is the report, with the
    completion's status and revision."""
    event = record.completed
    return to_json(
        {
            "specversion": "1.0",
            "id": record.id,
            "source": "siaran",
            "type": AnnouncementCompleted.event_type,
            "time": stamp(event.completed_at),
            "datacontenttype": "application/json",
            "data": event.report | {"status": event.status.value, "revision": event.revision},
        }
    )


class CallbackSender:
    """POSTs callbacks over one aiohttp session whose connections go through the guard."""

    def __init__(self, secrets: Secrets, guard: GuardedResolver, timeout: float) -> None:
        self._secrets = secrets
        self._guard = guard
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._guard.close()

    async def send(self, record: CompletionRecord) -> Answer:
        url = URL(record.callback_url or "")
        if url.scheme not in ("http", "https") or not url.host:
            return Answer(Verdict.FINAL, "callback_url is not an http(s) URL")
        refused = await self._guard.refused(url.host, url.port or 0)
        if refused:
            return Answer(Verdict.FINAL, f"endpoint refused: {refused}")
        body = callback_body(record)
        headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": record.id}
        if record.callback_secret:
            try:
                secret = self._secrets.get(record.callback_secret)
            except MissingSecret as exc:
                return Answer(Verdict.FINAL, str(exc))
            headers.update(signed_headers(record.id, body, secret))
        return await self._post(url, body, headers)

    async def _post(self, url: URL, body: bytes, headers: dict[str, str]) -> Answer:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=64, resolver=self._guard)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"User-Agent": "siaran/1.0"}
            )
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            again, said = failure_of(exc)
            return Answer(Verdict.RETRY if again else Verdict.FINAL, said)
        if 200 <= status < 300:
            return Answer(Verdict.DELIVERED, f"HTTP {status}")
        verdict = Verdict.RETRY if retried_status(status) else Verdict.FINAL
        return Answer(verdict, f"HTTP {status}", retry_after)


class Callbacks:
    """Sends the callbacks that are due and keeps each one's schedule in the store."""

    def __init__(
        self,
        completions: Completions,
        sender: CallbackSender,
        policy: RetryPolicy,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._completions = completions
        self._sender = sender
        self._policy = policy
        self._lease = lease  # longer than a send may take

    async def send_due(self, now: datetime | None = None) -> int:
        """Send every callback due by `now` (at once); how many were tried."""
        due = await self._completions.callbacks_due(now or utcnow())
        await asyncio.gather(*(self._try(record) for record in due))
        return len(due)

    async def _try(self, record: CompletionRecord) -> None:
        # Claimed first: another metrics instance finding it due as well does not send it too.
        if not await self._completions.claim(record, utcnow() + self._lease):
            return
        answer = await self._sender.send(record)
        attempts = record.attempts + 1
        again = None
        if answer.verdict is Verdict.RETRY:
            again = self._policy.next_attempt_at(
                attempts, utcnow(), record.completed_at, answer.retry_after
            )
        if answer.verdict is Verdict.DELIVERED:
            state = CallbackState.DELIVERED
        else:
            state = CallbackState.PENDING if again is not None else CallbackState.FAILED
        await self._completions.callback_tried(record, state, answer.summary, again)
        log.info("completion_callback", announcement_id=record.announcement_id,
                 revision=record.revision, attempt=attempts, state=state.value,
                 answer=answer.summary)  # fmt: skip
