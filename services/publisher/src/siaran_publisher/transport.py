"""One send of a task, through the transport its endpoint's scheme chooses (http(s): a
signed webhook; anything else: Apprise), safely: secrets filled in at the last moment and
cut out of what comes back, the endpoint checked, and the whole send bounded in time."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from urllib.parse import urlsplit

from siaran_shared.events import DeliveryPlanned
from siaran_shared.netguard import refused_reason
from siaran_shared.schemes import is_native
from siaran_shared.secrets import MissingSecret, Secrets

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.lanes import timed_send
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms.sender import PlatformSender, uploads
from siaran_publisher.webhook import WebhookSender


@dataclass
class Transport:
    """Sends one attempt; never raises for anything a channel does."""

    secrets: Secrets
    webhooks: WebhookSender
    apprise: AppriseSender
    #: hosts or networks allowed although link-local or metadata (SIARAN_ENDPOINT_ALLOWLIST)
    allowlist: tuple[str, ...] = ()
    #: longest one send may take in all, whatever the receiver does (a receiver dripping its
    #: answer a byte at a time never trips a per-read timeout)
    timeout: float = 30.0
    #: longest a send that streams a video up may take (YouTube's resumable upload; a retry
    #: resumes where the session stopped)
    upload_timeout: float = 1800.0
    #: facebook://, instagram://, threads://, tiktok://, youtube:// (platforms/)
    platforms: PlatformSender | None = None

    async def send(self, task: DeliveryPlanned) -> Attempt:
        """One attempt at the task's endpoint."""
        try:
            url = self.secrets.fill(task.endpoint)
            secret = self.secrets.get(task.secret) if task.secret else None
        except MissingSecret as exc:
            return Attempt(Verdict.PERMANENT, str(exc))
        webhook = task.endpoint.startswith(("http://", "https://"))
        # checked again at send time: the registry refuses such endpoints, but a task may
        # come from before a rule changed, or from a replayed dead letter; names are checked
        # as they resolve, when the transport connects (guard.py)
        if webhook and (refused := refused_reason(urlsplit(url).hostname, self.allowlist)):
            return Attempt(Verdict.PERMANENT, f"endpoint refused: {refused}")
        limit = self.upload_timeout if uploads(task.endpoint) else self.timeout
        try:
            async with asyncio.timeout(limit):
                with timed_send():
                    attempt = await self._send(task, url, secret, webhook=webhook)
        except TimeoutError:
            attempt = Attempt(Verdict.RETRY, f"timeout: no answer within {limit:g} s")
        return _scrubbed(attempt, self.secrets.values_in(task.endpoint, task.secret))

    async def _send(
        self, task: DeliveryPlanned, url: str, secret: str | None, *, webhook: bool
    ) -> Attempt:
        if webhook:
            return await self.webhooks.send(task, url, secret)
        if self.platforms is not None and is_native(task.endpoint):
            return await self.platforms.send(task)
        return await self.apprise.send(task, url)

    async def start(self) -> None:
        await self.webhooks.start()

    async def close(self) -> None:
        await self.webhooks.close()
        if self.platforms is not None:
            await self.platforms.close()


def _scrubbed(attempt: Attempt, secrets: list[str]) -> Attempt:
    """The attempt with every secret value cut out of its summary."""
    summary = attempt.summary
    for value in secrets:
        if value:
            summary = summary.replace(value, "***")
    if summary == attempt.summary:
        return attempt
    return dataclasses.replace(attempt, summary=summary)
