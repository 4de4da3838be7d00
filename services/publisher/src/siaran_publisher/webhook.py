"""Signed webhooks over aiohttp: a CloudEvents structured body, Idempotency-Key, and, when
the channel has a secret, X-Siaran-Signature (HMAC-SHA256 of the raw body) and the Standard
Webhooks headers (webhook-id, webhook-timestamp, webhook-signature over id, timestamp and
body, so a receiver can reject stale or replayed requests), and the
`traceparent` of the current span (the delivery's; see app.Pipeline), put on the request
here rather than by the aiohttp instrumentation, which would add a span per request
(what that cost: bench/README.md, Publisher)."""

from __future__ import annotations

import asyncio
import functools

import aiohttp
from opentelemetry import propagate, trace
from pydantic_core import to_json
from siaran_shared.events import (
    AnnouncementUpdated,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    utcnow,
)
from siaran_shared.guard import GuardedResolver
from siaran_shared.retrying import failure_of, retry_after_seconds
from siaran_shared.signing import signed_headers
from yarl import URL

from siaran_publisher.outcome import Attempt, Verdict, classify_status

PUBLISHED = "id.siaran.announcement.published.v1"
UPDATED = AnnouncementUpdated.event_type  # a correction: revision 2 and later
RETRACTED = "id.siaran.announcement.retracted.v1"
CONTENT_TYPE = "application/cloudevents+json"


def delivery_key(delivery_id: str, action: DeliveryAction, revision: int) -> str:
    """The CloudEvent id and Idempotency-Key of one revision of a delivery, and the key of
    its claim: the delivery id for revision 1, "<delivery id>:r<N>" for a correction's
    revision N, "<delivery id>:retract" for a retraction (whatever the revision)."""
    if action is DeliveryAction.RETRACT:
        return f"{delivery_id}:retract"
    return delivery_id if revision == 1 else f"{delivery_id}:r{revision}"


def event_id(task: DeliveryPlanned) -> str:
    """The CloudEvent id and Idempotency-Key of a task (see `delivery_key`)."""
    return delivery_key(task.delivery_id, task.action, task.revision)


def outcome_key(outcome: DeliveryCompleted) -> str:
    """The key of the task an outcome is of (see `delivery_key`)."""
    return delivery_key(outcome.delivery_id, outcome.action, outcome.revision)


def event_type(task: DeliveryPlanned) -> str:
    """Published, updated (a correction) or retracted."""
    if task.action is DeliveryAction.RETRACT:
        return RETRACTED
    return PUBLISHED if task.revision == 1 else UPDATED


def cloudevent_body(task: DeliveryPlanned) -> bytes:
    """The structured CloudEvent a webhook receives (the contract)."""
    event = {
        "specversion": "1.0",
        "id": event_id(task),
        "source": "siaran",
        "type": event_type(task),
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        "data": {
            "announcement_id": task.announcement_id,
            "channel_id": task.channel_id,
            "region": task.region,
            "kind": task.kind,
            "title": task.title,
            "text": task.text,
            "link": task.link,
            "hashtags": list(task.hashtags),
            "priority": task.priority.value,
            "media": [m.model_dump() for m in task.media],
            "revision": task.revision,
        },
    }
    # pydantic-core's serialiser writes what json.dumps(ensure_ascii=False, separators=(",",
    # ":")) writes, in a fraction of the time (bench/README.md, Publisher)
    return to_json(event)


@functools.lru_cache(maxsize=4096)
def _parsed(url: str) -> URL:
    """The endpoint as aiohttp's URL, parsed once per endpoint, not once per send; bounded
    above the national registry's size (what one costs in memory: bench/README.md)."""
    return URL(url)


class WebhookSender:
    """Posts to http(s) endpoints over one pooled aiohttp session."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        pool: int = 256,
        guard: GuardedResolver | None = None,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._pool = pool
        self._guard = guard or GuardedResolver()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._pool, limit_per_host=self._pool, resolver=self._guard
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers={"User-Agent": "siaran/1.0"}
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._guard.close()

    async def send(self, task: DeliveryPlanned, url: str, secret: str | None) -> Attempt:
        if self._session is None:
            await self.start()
        assert self._session is not None
        body = cloudevent_body(task)
        key = event_id(task)
        headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": key}
        if secret:
            headers.update(signed_headers(key, body, secret))
        propagate.inject(headers)
        try:
            async with self._session.post(
                _parsed(url), data=body, headers=headers, allow_redirects=False
            ) as response:
                text = (await response.content.read(300)).decode(errors="replace")
                trace.get_current_span().set_attribute("http.response.status_code", response.status)
                verdict = classify_status(response.status)
                return Attempt(
                    verdict,
                    f"HTTP {response.status} {text[:200]}".strip(),
                    status=response.status,
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            again, said = failure_of(exc)
            return Attempt(Verdict.RETRY if again else Verdict.PERMANENT, said)
        except asyncio.CancelledError:
            raise
