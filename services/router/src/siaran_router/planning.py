"""Turning an accepted announcement into delivery tasks, one per channel, rendered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from siaran_shared.events import (
    Announcement,
    DeliveryAction,
    DeliveryPlanned,
    utcnow,
)
from siaran_shared.regions import regions

from siaran_router.limits import PlatformLimit, limit_for
from siaran_router.registry import Configured
from siaran_router.render import render_with


def delivery_id(announcement_id: str, channel_id: str) -> str:
    """The id of one (announcement, channel) delivery, also its Idempotency-Key."""
    return f"{announcement_id}:{channel_id}"


class Rendered(NamedTuple):
    """What channels of one kind are sent: the title and the text, each within the
    platform's limits."""

    title: str
    text: str


def render_title(limit: PlatformLimit, title: str) -> str:
    """The title as a platform with a title limit takes it (cut at a word with an ellipsis,
    refused characters replaced); as written elsewhere."""
    if limit.title_max is None:
        return title
    of_title = PlatformLimit(limit.title_max, False, None, "unicode", keep_paragraphs=False,
                             forbidden=limit.forbidden)  # fmt: skip
    return render_with(of_title, title=title, body="", summary=None, link=None, hashtags=())


def render_texts(announcement: Announcement, kinds: Iterable[str]) -> dict[str, Rendered]:
    """What `announcement` is for each channel kind, rendered once per distinct limit.

    CPU-bound (tens of milliseconds for a long body to a short platform): the fan-out runs
    it in a worker thread so the consumer's heartbeats and the release loop keep running.
    """
    a = announcement
    media = [m.type for m in a.media]
    by_limit: dict[PlatformLimit, Rendered] = {}
    texts = {}
    for kind in set(kinds):
        limit = limit_for(kind, media)
        rendered = by_limit.get(limit)
        if rendered is None:  # kinds with the same limits (web and email, ...) share one render
            text = render_with(
                limit, title=a.title, body=a.body, summary=a.summary, link=a.link,
                hashtags=a.hashtags,
            )  # fmt: skip
            rendered = by_limit[limit] = Rendered(render_title(limit, a.title), text)
        texts[kind] = rendered
    return texts


def plan_deliveries(
    announcement: Announcement,
    accepted_at: datetime,
    channels: Sequence[Configured],
    texts: Mapping[str, Rendered],
    release: Callable[[Configured], datetime] | None = None,
    *,
    revision: int = 1,
    fallback_of: Mapping[str, str] | None = None,
) -> list[DeliveryPlanned]:
    """One task per channel, with the title and text `texts` holds for its kind.

    `release` maps a channel to when its delivery is due; a later time than acceptance
    becomes the task's `not_before`. `fallback_of` maps the channels that stand in for a
    failed delivery to that delivery's id.
    """
    a = announcement
    fallbacks = fallback_of or {}
    planned_at = utcnow()
    tasks = []
    for channel in channels:
        not_before = a.publish_at
        if release is not None:
            due = release(channel)
            not_before = due if due > accepted_at else a.publish_at
        tasks.append(
            DeliveryPlanned(
                delivery_id=delivery_id(a.id, channel.id),
                announcement_id=a.id,
                channel_id=channel.id,
                region=channel.region,
                province=regions().province_of(channel.region),
                kind=channel.kind,
                endpoint=channel.endpoint,
                secret=channel.secret,
                rate_per_minute=channel.rate_per_minute,
                title=texts[channel.kind].title,
                text=texts[channel.kind].text,
                link=a.link,
                hashtags=a.hashtags,
                priority=a.priority,
                media=a.media,
                accepted_at=accepted_at,
                not_before=not_before,
                expires_at=a.expires_at,
                revision=revision,
                planned_at=planned_at,
                fallback_of=fallbacks.get(channel.id),
            )
        )
    return tasks


def plan_retractions(planned: Sequence[DeliveryPlanned]) -> list[DeliveryPlanned]:
    """Retraction tasks for every planned delivery: the publisher cancels what it has not
    posted yet and retracts what it has."""
    return [p.model_copy(update={"action": DeliveryAction.RETRACT}) for p in planned]
