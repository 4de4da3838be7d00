"""Instagram through the Graph API (Instagram professional accounts): `POST /{ig-user-id}/media`
with `image_url`, or `video_url` and `media_type=REELS`, and `caption` → `GET
/{container-id}?fields=status_code` until FINISHED → `POST /{ig-user-id}/media_publish`
(`creation_id`). Instagram cannot post text alone; its API cannot delete posts. The token
needs `instagram_basic` and `instagram_content_publish`."""

from __future__ import annotations

from siaran_publisher.outcome import Attempt
from siaran_publisher.platforms import containers
from siaran_publisher.platforms.common import Work, media_required, not_supported

NAME = "instagram"
CAPTION_LIMIT = 2_200
FLOW = containers.Flow(NAME, "status_code", "media", "media_publish")


async def publish(work: Work) -> Attempt:
    caption = work.caption(CAPTION_LIMIT)
    if (image := work.media("image")) is not None:
        container = {"image_url": image.url, "caption": caption}
    elif (video := work.media("video")) is not None:
        container = {"video_url": video.url, "media_type": "REELS", "caption": caption}
    else:
        return media_required(NAME)
    return await containers.publish(work, FLOW, container)


async def retract(work: Work, post_id: str) -> Attempt:
    return not_supported(NAME)
