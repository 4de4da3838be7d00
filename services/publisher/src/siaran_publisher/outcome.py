"""What one send attempt came to, whatever the transport."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from siaran_shared.retrying import retried_status


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # 408, 429, 5xx, timeouts, connection errors
    PERMANENT = "permanent"  # other 4xx, bad configuration
    UNSUPPORTED = "unsupported"  # e.g. retraction on a channel that cannot delete


@dataclass(frozen=True, slots=True)
class Attempt:
    verdict: Verdict
    summary: str
    status: int | None = None
    retry_after: float | None = None
    #: the platform's id of the post made (native platforms), recorded in the outcome
    post_id: str | None = None
    #: a platform said the channel's token expired or was revoked: no attempt helps until
    #: the channel is saved again with a new token (channels.Reconnects)
    token_dead: bool = False

    @property
    def needs_reconnect(self) -> bool:
        """401/403, or a platform's "token expired": the channel's token expired or was
        revoked."""
        return self.token_dead or self.status in (401, 403)

    @property
    def processing(self) -> bool:
        """202: the channel took the post and is still processing it (asked again later);
        an answer, not a failure."""
        return self.status == 202


def classify_status(status: int) -> Verdict:
    """The webhook contract: 2xx delivered; 408, 429, 5xx retried; other 4xx fail at once."""
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if retried_status(status):
        return Verdict.RETRY
    return Verdict.PERMANENT
