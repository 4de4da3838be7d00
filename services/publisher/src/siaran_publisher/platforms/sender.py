"""The transport of the native platform schemes (facebook://, instagram://, threads://,
tiktok://, youtube://): one pooled aiohttp session whose connections resolve through the
endpoint guard, the channel's token read from the secrets at send time (or refreshed,
tokens.py), and each platform's module called for a post, a correction (corrections.py) or
a retraction. A channel whose token a platform refused is not sent to until it is saved
again (channels.Reconnects)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

import aiohttp
from siaran_publisher.channels import Reconnects
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms import (
    corrections,
    facebook,
    instagram,
    threads,
    tiktok,
    youtube,
)
from siaran_publisher.platforms.common import (
    ChannelLineError,
    PlatformError,
    Posts,
    Work,
    delivered,
    not_supported,
    resolve_token,
)
from siaran_publisher.platforms.tokens import Grant, Refresher
from siaran_shared.events import DeliveryAction, DeliveryPlanned
from siaran_shared.guard import GuardedResolver
from siaran_shared.retrying import failure_of
from siaran_shared.schemes import scheme_of
from siaran_shared.secrets import MissingSecret, Secrets

#: scheme → the module that posts there (one per siaran_shared.schemes.NATIVE)
MODULES: Mapping[str, ModuleType] = {
    "facebook": facebook,
    "instagram": instagram,
    "threads": threads,
    "tiktok": tiktok,
    "youtube": youtube,
}


def uploads(endpoint: str) -> bool:
    """Whether a send to this endpoint streams a video up (YouTube): it gets the upload
    time limit instead of a post's."""
    module = MODULES.get(scheme_of(endpoint))
    return bool(getattr(module, "UPLOADS", False))


@dataclass(frozen=True)
class ApiBases:
    """The API base URL of each platform, the version pinned in it (settings)."""

    graph: str = "https://graph.facebook.com/v23.0"
    threads: str = "https://graph.threads.net/v1.0"
    tiktok: str = "https://open.tiktokapis.com"
    youtube: str = "https://www.googleapis.com"

    def of(self, scheme: str) -> str:
        base = {"facebook": self.graph, "instagram": self.graph}.get(scheme)
        return (base or getattr(self, scheme)).rstrip("/")


@dataclass
class PlatformSender:
    """Posts to and retracts from the platforms; never raises for anything one answers."""

    secrets: Secrets
    posts: Posts
    bases: ApiBases = field(default_factory=ApiBases)
    guard: GuardedResolver = field(default_factory=GuardedResolver)
    allow: tuple[str, ...] = ()
    read_timeout: float = 30.0
    #: channels whose token a platform refused, not sent to until saved again
    reconnects: Reconnects | None = None
    #: refreshes the access tokens of channels that name a refresh token (TikTok, YouTube)
    refresher: Refresher | None = None
    _session: aiohttp.ClientSession | None = None

    async def send(self, task: DeliveryPlanned) -> Attempt:
        if self.reconnects and (refusal := await self.reconnects.refusal(task)):
            return refusal
        attempt = await self._send(task)
        if attempt.token_dead and self.reconnects is not None:
            await self.reconnects.mark(task.channel_id, scheme_of(task.endpoint))
            if self.refresher is not None:
                await self.refresher.vault.expire(task.channel_id)
        return attempt

    async def _send(self, task: DeliveryPlanned) -> Attempt:
        try:
            account, token = resolve_token(task.endpoint, self.secrets)
            grant = Grant.of(account, self.secrets)
        except (ChannelLineError, MissingSecret) as exc:
            return Attempt(Verdict.PERMANENT, str(exc))
        module = MODULES[account.scheme]
        recorded = await self.posts.get(task.delivery_id)
        post_id = recorded.get("post_id")
        if task.action is DeliveryAction.RETRACT:
            if not post_id or post_id.startswith("container:"):
                return not_supported(account.scheme)
        elif post_id and task.revision <= int(recorded.get("revision", 1)):
            # posted already (recorded before a crash could finish the delivery)
            return delivered(account.scheme, post_id)

        async def step() -> Attempt:
            live = token
            if grant is not None and self.refresher is not None:
                live = await self.refresher.token(await self.session(), account,
                                                  task.channel_id, grant)  # fmt: skip
            work = Work(task, account, live, await self.session(),
                        self.bases.of(account.scheme), self.posts, self.allow)  # fmt: skip
            attempt: Attempt
            if task.action is DeliveryAction.RETRACT:
                attempt = await corrections.retract(work, module, recorded)
            elif post_id:  # a correction of a post made: edited where the platform can
                attempt = await corrections.correct(work, module, post_id)
            else:
                attempt = await module.publish(work)
                if attempt.post_id and task.revision > 1:  # a correction posted first
                    await self.posts.note(task.delivery_id, revision=str(task.revision))
            return attempt

        return await _answered(account.scheme, step)

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=128, resolver=self.guard),
                timeout=aiohttp.ClientTimeout(sock_connect=10, sock_read=self.read_timeout),
                headers={"User-Agent": "siaran/1.0"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _answered(platform: str, step: Callable[[], Awaitable[Attempt]]) -> Attempt:
    """The step's attempt, or what its failure means; never an exception."""
    try:
        return await step()
    except PlatformError as exc:
        return exc.attempt
    except (ChannelLineError, MissingSecret) as exc:  # the token key's secret, say
        return Attempt(Verdict.PERMANENT, str(exc))
    except (aiohttp.ClientError, TimeoutError) as exc:
        again, said = failure_of(exc)
        said = said if said.startswith("endpoint refused") else f"{platform}: {said}"
        return Attempt(Verdict.RETRY if again else Verdict.PERMANENT, said)
    except (KeyError, TypeError, ValueError) as exc:  # an answer not shaped as documented
        return Attempt(Verdict.RETRY, f"{platform}: unexpected answer ({type(exc).__name__})")
    except asyncio.CancelledError:
        raise
