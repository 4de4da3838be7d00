"""Completion and its callbacks assembled from the settings, and the loop that runs them."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import timedelta

from siaran_shared.events.topics import ANNOUNCEMENTS
from siaran_shared.guard import GuardedResolver
from siaran_shared.logging import get_logger
from siaran_shared.messaging import Outgoing, publish_all
from siaran_shared.retrying import RetryPolicy
from siaran_shared.secrets import Secrets
from siaran_shared.service import Runtime
from siaran_shared.store import Expiry

from siaran_metrics.callbacks import Callbacks, CallbackSender
from siaran_metrics.completion import Completer
from siaran_metrics.completions import CompletionRecord, Completions
from siaran_metrics.config import metrics_settings
from siaran_metrics.ledger import Ledger

log = get_logger(__name__)


def completion_in_background(
    runtime: Runtime, ledger: Ledger, expiry: Expiry
) -> tuple[Completer, Callbacks]:
    """The completer over the ledger and the callbacks, on the store's `completions`; their
    loop runs for the service's lifetime."""
    s = metrics_settings(runtime.settings)
    completions = Completions(
        runtime.store.collection(
            "completions", indexes=("published", "callback", "due_at"), expiry=expiry
        )
    )

    async def announce(records: Sequence[CompletionRecord]) -> None:
        await publish_all(
            runtime.broker,
            runtime.source,
            [Outgoing(ANNOUNCEMENTS, r.announcement_id, r.completed, r.id) for r in records],
        )

    sender = CallbackSender(
        Secrets(s.secrets_dir), GuardedResolver(s.endpoint_allowlist), s.callback_timeout_seconds
    )
    runtime.on_stop.append(sender.close)
    policy = RetryPolicy(
        max_attempts=s.callback_max_attempts,
        max_age=timedelta(seconds=s.callback_max_age_seconds),
        base=s.callback_base_seconds,
        cap=s.callback_max_delay_seconds,
    )
    completer = Completer(
        ledger, completions, announce, s.completion_grace, s.completion_fallback_wait
    )
    lease = timedelta(seconds=s.callback_timeout_seconds + 60)
    callbacks = Callbacks(completions, sender, policy, lease)
    runtime.run_in_background(
        "completions", functools.partial(completion_loop, runtime, completer, callbacks)
    )
    return completer, callbacks


async def completion_loop(runtime: Runtime, completer: Completer, callbacks: Callbacks) -> None:
    """Publish what is unpublished, complete what is overdue, send the callbacks due; again
    every SIARAN_COMPLETION_POLL_SECONDS. A failing round is logged and tried again."""
    interval = metrics_settings(runtime.settings).completion_poll_seconds
    while True:
        for name, step in (
            ("publish", completer.publish),
            ("sweep", completer.sweep),
            ("callbacks", callbacks.send_due),
        ):
            try:
                await step()
            except Exception:
                log.exception("completion_round_failed", step=name)
        await asyncio.sleep(interval)
