"""Threads through the Threads API: `POST /{threads-user-id}/threads` (`media_type=TEXT`,
`IMAGE` with `image_url`, or `VIDEO` with `video_url`; `text`, and the media's description
as `alt_text`) → `GET /{container-id}?fields=status` until FINISHED
→ `POST /{threads-user-id}/threads_publish` (`creation_id`). The token needs
`threads_basic` and `threads_content_publish`, and `threads_delete` for a retraction
(`DELETE /{threads-media-id}`, at most 100 a day per account). The API cannot edit a post:
a correction is posted as a new post."""

from __future__ import annotations

from siaran_publisher.outcome import Attempt
from siaran_publisher.platforms import containers
from siaran_publisher.platforms.common import Work
from siaran_publisher.platforms.graph import delete

NAME = "threads"
TEXT_LIMIT = 500
FLOW = containers.Flow(NAME, "status", "threads", "threads_publish")


async def publish(work: Work) -> Attempt:
    container = {"media_type": "TEXT", "text": work.caption(TEXT_LIMIT)}
    shown = work.media("image") or work.media("video")  # a picture first, as Instagram
    if shown is not None:
        url_field = "image_url" if shown.type == "image" else "video_url"
        container |= {"media_type": shown.type.upper(), url_field: shown.url}
        if shown.alt:
            container["alt_text"] = shown.alt
    return await containers.publish(work, FLOW, container)


async def retract(work: Work, post_id: str) -> Attempt:
    return await delete(work, NAME, post_id)
