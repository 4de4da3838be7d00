"""Every non-http(s) endpoint goes through Apprise (Telegram, Mastodon, X, e-mail, …)."""

from __future__ import annotations

import apprise
from siaran_shared.events import DeliveryAction, DeliveryPlanned

from siaran_publisher.outcome import Attempt, Verdict


class AppriseSender:
    """Sends a task's text through Apprise; Apprise cannot delete, so no retractions."""

    async def send(self, task: DeliveryPlanned, url: str) -> Attempt:
        if task.action is DeliveryAction.RETRACT:
            return Attempt(Verdict.UNSUPPORTED, "retraction unsupported by this channel")
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return Attempt(Verdict.PERMANENT, "Apprise does not accept this endpoint URL")
        body = task.text
        title = "" if task.kind in ("x", "sms", "whatsapp", "mastodon") else task.title
        ok = await notifier.async_notify(body=body, title=title)
        if ok:
            return Attempt(Verdict.DELIVERED, "sent through Apprise")
        # Apprise reports only success or failure; treat failure as transient.
        return Attempt(Verdict.RETRY, "Apprise reported a failed notification")
