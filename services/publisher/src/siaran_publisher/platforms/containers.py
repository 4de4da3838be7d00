"""The container flow Instagram and Threads share: create a media container, wait until the
platform has fetched and processed the media (`status_code` / `status` FINISHED), then
publish it with `creation_id`.

No worker waits for a video to be processed: the container id is kept in the store and the
attempt ends "still processing", so the delivery returns through the durable retry schedule
and the next attempt asks again. A restart between creation and publication finds the
container id and publishes that container, never a second one; a container the platform
already reports PUBLISHED is not published again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from siaran_publisher.outcome import Attempt
from siaran_publisher.platforms.common import Work, delivered, later, refused
from siaran_publisher.platforms.graph import call

#: How long to wait before asking again about a container still being processed (Meta
#: suggests polling about once a minute, for at most five minutes).
POLL_SECONDS = 30.0


@dataclass(frozen=True)
class Flow:
    platform: str
    #: the field of the container that says how processing went
    status_field: str
    #: the account's media-creation and publication edges
    create_edge: str
    publish_edge: str


async def publish(work: Work, flow: Flow, container: Mapping[str, str]) -> Attempt:
    """Create (once), check, and publish (once) the delivery's container."""
    user = work.account.account
    delivery = work.task.delivery_id
    creation_id = (await work.posts.get(delivery)).get("container")
    if creation_id is None:
        answer = await call(work, flow.platform, "POST", f"{user}/{flow.create_edge}", container)
        creation_id = str(answer["id"])
        await work.posts.note(delivery, container=creation_id)
    answer = await call(work, flow.platform, "GET", f"{creation_id}?fields={flow.status_field}")
    status = str(answer.get(flow.status_field, ""))
    if status == "PUBLISHED":  # published before a crash could record it
        return delivered(flow.platform, f"container:{creation_id}")
    if status in ("ERROR", "EXPIRED"):
        await work.posts.note(delivery, container="")  # a retry starts a new container
        return refused(flow.platform, 400, f"media container {status}: the media could not"
                       " be processed (format, size or URL)")  # fmt: skip
    if status != "FINISHED":  # IN_PROGRESS
        return later(flow.platform, "media still processing", 202, POLL_SECONDS)
    publish_data = {"creation_id": creation_id}
    answer = await call(work, flow.platform, "POST", f"{user}/{flow.publish_edge}", publish_data)
    post_id = str(answer["id"])
    await work.posts.note(delivery, post_id=post_id)
    return delivered(flow.platform, post_id)
