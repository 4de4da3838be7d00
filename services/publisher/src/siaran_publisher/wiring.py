"""The delivery logic assembled from the settings: one place, for the service and its tests."""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass
from datetime import timedelta

from siaran_shared.guard import GuardedResolver
from siaran_shared.secrets import Secrets
from siaran_shared.store import Collection

from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.attempts import Attempts
from siaran_publisher.backoff import RetryPolicy
from siaran_publisher.breaker import Breakers
from siaran_publisher.channels import CurrentChannels, Reconnects
from siaran_publisher.claiming import Claiming
from siaran_publisher.claims import Claims
from siaran_publisher.config import PublisherSettings
from siaran_publisher.deliver import Deliverer
from siaran_publisher.finishing import Finishing
from siaran_publisher.platforms.common import Posts
from siaran_publisher.platforms.sender import ApiBases, PlatformSender
from siaran_publisher.platforms.tokens import Refresher, Vault
from siaran_publisher.publishing import Publishing
from siaran_publisher.retraction import Retraction
from siaran_publisher.tally import Tally
from siaran_publisher.transport import Transport
from siaran_publisher.webhook import WebhookSender


@dataclass(frozen=True)
class Delivery:
    """The delivery logic and the parts the service runs or reports besides it."""

    deliverer: Deliverer
    claims: Claims
    channels: CurrentChannels
    breakers: Breakers
    transport: Transport
    tally: Tally


def assemble(
    docs: Collection, settings: PublisherSettings, *, owner: str, posts: Collection | None = None
) -> Delivery:
    """The delivery logic over the claims collection `docs`, as `owner` (host:pid); `posts`
    keeps what the native platforms answered (their post ids), the claims' own when None."""
    claims = Claims(docs, owner, timedelta(seconds=settings.claim_lease_seconds))
    channels = CurrentChannels()
    guard = GuardedResolver(settings.endpoint_allowlist)
    secrets = Secrets(settings.secrets_dir, reserved=[settings.token_key_secret])
    # without a collection of their own, posts live beside the claims under a prefix
    platform_docs = posts if posts is not None else docs
    transport = Transport(
        secrets=secrets,
        webhooks=WebhookSender(
            connect_timeout=settings.webhook_connect_timeout_seconds,
            read_timeout=settings.webhook_read_timeout_seconds,
            pool=sends_at_once(settings),
            guard=guard,
        ),
        apprise=AppriseSender(guard),
        allowlist=tuple(settings.endpoint_allowlist),
        timeout=settings.send_timeout_seconds,
        upload_timeout=settings.upload_timeout_seconds,
        platforms=platform_sender(
            Posts(platform_docs, "" if posts is not None else "post:"),
            settings,
            secrets,
            Reconnects(platform_docs, channels),
            Vault(platform_docs, secrets, settings.token_key_secret),
        ),
    )
    breakers = Breakers(settings.breaker_failures, settings.breaker_cooldown_seconds)
    finishing = Finishing(claims)
    claiming = Claiming(claims, channels, finishing)
    attempts = Attempts(
        finishing,
        transport,
        RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            max_age=timedelta(seconds=settings.retry_max_age_seconds),
            base=settings.retry_base_seconds,
            cap=settings.retry_max_delay_seconds,
        ),
        breakers,
        inline_wait=settings.publisher_inline_wait_seconds,
    )
    deliverer = Deliverer(
        Publishing(claiming, attempts),
        Retraction(claiming, attempts),
        slots=asyncio.Semaphore(sends_at_once(settings)),
    )
    return Delivery(deliverer, claims, channels, breakers, transport, finishing.tally)


#: Open files kept for everything but the sends' connections (the store, Kafka, logs).
RESERVED_FILES = 256


def sends_at_once(settings: PublisherSettings) -> int:
    """SIARAN_PUBLISHER_MAX_IN_FLIGHT, below the process's open-file limit (each send holds
    a connection: past the limit, sends would fail with EMFILE instead of waiting)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = settings.publisher_max_in_flight
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_FILES))


def platform_sender(
    posts: Posts,
    settings: PublisherSettings,
    secrets: Secrets,
    reconnects: Reconnects,
    vault: Vault,
) -> PlatformSender:
    """The native platforms' transport, pointed at the API versions the settings pin."""
    s = settings
    bases = ApiBases(s.graph_api_url, s.threads_api_url, s.tiktok_api_url, s.youtube_api_url)
    token_endpoints = {"tiktok": f"{bases.of('tiktok')}/v2/oauth/token/",
                       "youtube": s.google_token_url}  # fmt: skip
    return PlatformSender(
        secrets,
        posts,
        bases,
        GuardedResolver(s.endpoint_allowlist),
        tuple(s.endpoint_allowlist),
        s.webhook_read_timeout_seconds,
        reconnects,
        Refresher(vault, token_endpoints),
    )
