"""A correction (an announcement's revision 2 or later) of a delivery already posted: edited
in place where the platform's API can edit a post (Facebook: `POST /{post-id}` with the new
`message`; YouTube: `videos.update` of the title and description), posted as a new post
where it cannot (Instagram, Threads, TikTok), and the outcome says which."""

from __future__ import annotations

import dataclasses
from types import ModuleType

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
        await work.posts.note(task.delivery_id, post_id=attempt.post_id, revision=revision)
    said = (
        f"{attempt.summary}; {work.account.scheme} cannot edit a post by API: the correction"
        f" (revision {revision}) was posted as a new post, the first one stays"
    )
    return dataclasses.replace(attempt, summary=said)
