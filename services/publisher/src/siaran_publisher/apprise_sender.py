"""Every non-http(s) endpoint goes through Apprise (Telegram, Mastodon, X, e-mail, …).

Apprise reports success or failure per service, with the service's log lines; the HTTP
status those lines carry (``error=503``) maps to the webhook contract's verdicts, so an
Apprise channel is retried, failed or marked "needs reconnect" like a webhook.

Apprise connects by itself, so endpoint safety is checked before it does: redirects are
never followed, and for the schemes whose host is the destination (self-hosted services:
`json://`, `mastodon://`, `mailto://` ...) the host is resolved and refused when it reaches
a refused address. The other schemes call their platform's fixed API; their "host" is often
a credential and is never looked up."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

import apprise
from apprise.result import AppriseResultStatus
from siaran_shared.events import DeliveryAction, DeliveryPlanned
from siaran_shared.guard import GuardedResolver
from siaran_shared.schemes import SELF_HOSTED, scheme_of

from siaran_publisher.outcome import Attempt, Verdict, classify_status

_ERROR_CODE = re.compile(r"error=(\d{3})\b")
#: Kinds whose posts carry no separate title.
UNTITLED_KINDS = frozenset({"x", "sms", "whatsapp", "mastodon"})


def classify_apprise(status: AppriseResultStatus, messages: Iterable[str]) -> Attempt:
    """Delivered, retryable or permanent, from Apprise's status and its warnings."""
    if status == AppriseResultStatus.SUCCESS:
        return Attempt(Verdict.DELIVERED, "sent through Apprise")
    if status == AppriseResultStatus.NOMATCH:
        return Attempt(Verdict.PERMANENT, "Apprise found no service for this endpoint")
    if status == AppriseResultStatus.TIMEOUT:
        return Attempt(Verdict.RETRY, "timeout (Apprise)")
    lines = [m for m in messages if m]
    last = lines[-1] if lines else "Apprise reported a failed notification"
    for line in reversed(lines):
        match = _ERROR_CODE.search(line)
        if match:
            code = int(match.group(1))
            return Attempt(classify_status(code), f"HTTP {code} {line}", status=code)
    # No status code: a connection error, a timeout or an unknown failure; worth retrying.
    return Attempt(Verdict.RETRY, last)


def load_plugins() -> None:
    """Load Apprise's plugins now rather than on the first send, inside the event loop.

    Its e-mail plugin imports the stdlib `imghdr`, deprecated since Python 3.11; that
    warning is Apprise's to fix and says nothing about Siaran, so it is silenced here only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        apprise.Apprise().add("json://localhost")


class AppriseSender:
    """Sends a task's text through Apprise; Apprise cannot delete, so no retractions."""

    def __init__(self, guard: GuardedResolver | None = None) -> None:
        load_plugins()
        self._guard = guard or GuardedResolver()
        self._asset = apprise.AppriseAsset(http_redirects=False)

    async def send(self, task: DeliveryPlanned, url: str) -> Attempt:
        if task.action is DeliveryAction.RETRACT:
            return Attempt(Verdict.UNSUPPORTED, "retraction unsupported by this channel")
        notifier = apprise.Apprise(asset=self._asset)
        if not notifier.add(url):
            return Attempt(Verdict.PERMANENT, "Apprise does not accept this endpoint URL")
        for service in notifier:
            service.redirects = False  # whatever the URL's ?redirect= says
            if scheme_of(url) in SELF_HOSTED:
                refused = await self._guard.refused(service.host)
                if refused:
                    return Attempt(Verdict.PERMANENT, f"endpoint refused: {refused}")
        title = "" if task.kind in UNTITLED_KINDS else task.title
        result = await notifier.async_notify(body=task.text, title=title)
        messages = [
            entry.message
            for service in result.results
            for attempt in service.attempts
            for entry in attempt.logs
            if entry.level in ("WARNING", "ERROR", "CRITICAL")
        ]
        return classify_apprise(AppriseResultStatus(result.status), messages)
