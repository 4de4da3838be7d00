"""A correction (an announcement's revision 2 or later) of a delivery already posted: edited
in place where the platform's API can edit a post (Facebook: `POST /{post-id}` with the new
`message`; YouTube: `videos.update` of the title and description), posted as a new post
where it cannot (Instagram, Threads, TikTok), and the outcome says which. The earlier post
stays, and is remembered: a retraction deletes it too where the platform can (Threads)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import ModuleType
from typing import Any, cast

from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms.common import Work


async def correct(work: Work, module: ModuleType, post_id: str) -> Attempt:
    """Bring the delivery's post to the task's revision."""
    task = work.task
    revision = str(task.revision)
    edit = getattr(module, "edit", None)
    if edit is not None:
        attempt: Attempt = await edit(work, post_id)
        if attempt.verdict is Verdict.DELIVERED:
            await work.posts.note(task.delivery_id, revision=revision)
        return attempt
    # a new post, its progress (container, publish id) kept apart from the first post's
    apart = task.model_copy(update={"delivery_id": f"{task.delivery_id}:r{revision}"})
    attempt = await module.publish(dataclasses.replace(work, task=apart))
    if attempt.verdict is not Verdict.DELIVERED:
        return attempt
    if attempt.post_id:
        earlier = _ids((await work.posts.get(task.delivery_id)).get("earlier"))
        earlier += [post_id] if post_id not in earlier else []
        await work.posts.note(task.delivery_id, post_id=attempt.post_id, revision=revision,
                              earlier=",".join(earlier))  # fmt: skip
    said = (
        f"{attempt.summary}; {work.account.scheme} cannot edit a post by API: the correction"
        f" (revision {revision}) was posted as a new post, the first one stays"
    )
    return dataclasses.replace(attempt, summary=said)


async def retract(work: Work, module: ModuleType, recorded: Mapping[str, Any]) -> Attempt:
    """Delete the delivery's post and the earlier ones its corrections left beside it, each
    noted once deleted, so that a retry deletes only what is left."""
    deleted = _ids(recorded.get("deleted"))
    posts = [*_ids(recorded.get("earlier")), recorded["post_id"]]
    left = [p for p in dict.fromkeys(posts) if p not in deleted]
    attempt = Attempt(Verdict.DELIVERED, f"{work.account.scheme} post deleted before", 200)
    for post_id in left:
        attempt = cast(Attempt, await module.retract(work, post_id))
        if attempt.verdict is not Verdict.DELIVERED:
            return attempt
        deleted.append(post_id)
        await work.posts.note(work.task.delivery_id, deleted=",".join(deleted))
    if len(left) > 1:
        said = f"{work.account.scheme} posts {', '.join(left)} deleted"
        return dataclasses.replace(attempt, summary=said)
    return attempt


def _ids(joined: str | None) -> list[str]:
    return [i for i in (joined or "").split(",") if i]
