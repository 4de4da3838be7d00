"""Threads through the Threads API: `POST /{threads-user-id}/threads` (`media_type=TEXT`, or
`IMAGE` with `image_url`, and `text`) → `GET /{container-id}?fields=status` until FINISHED
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
    if (image := work.media("image")) is not None:
        container |= {"media_type": "IMAGE", "image_url": image.url}
    return await containers.publish(work, FLOW, container)


async def retract(work: Work, post_id: str) -> Attempt:
    return await delete(work, NAME, post_id)
