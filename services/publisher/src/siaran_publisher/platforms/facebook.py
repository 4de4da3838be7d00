"""Facebook Pages through the Graph API: `POST /{page-id}/feed` (`message`, `link`), or
`POST /{page-id}/photos` (`url`, `caption`) when the announcement has an image; a
correction edits the post (`POST /{post-id}` with `message`); a retraction is
`DELETE /{post-id}`. The token is a Page access token with
`pages_manage_posts` (and `pages_read_engagement`)."""

from __future__ import annotations

from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms.common import Work, delivered
from siaran_publisher.platforms.graph import call, delete

NAME = "facebook"
#: Facebook's limit on a post's text (characters).
TEXT_LIMIT = 63_206


async def publish(work: Work) -> Attempt:
    page = work.account.account
    image = work.media("image")
    if image is not None:
        data = {"url": image.url, "caption": work.caption(TEXT_LIMIT)}
        answer = await call(work, NAME, "POST", f"{page}/photos", data)
        post_id = str(answer.get("post_id") or answer["id"])  # photos answer {id, post_id}
    else:
        data = {"message": work.caption(TEXT_LIMIT)}
        if work.task.link:
            data["link"] = work.task.link
        post_id = str((await call(work, NAME, "POST", f"{page}/feed", data))["id"])
    await work.posts.note(work.task.delivery_id, post_id=post_id)
    return delivered(NAME, post_id)


async def edit(work: Work, post_id: str) -> Attempt:
    """A correction: the Page post's text replaced (`POST /{post-id}` with `message`; a
    photo post's caption is its message)."""
    await call(work, NAME, "POST", post_id, {"message": work.caption(TEXT_LIMIT)})
    return Attempt(Verdict.DELIVERED, f"{NAME} post_id={post_id} edited to revision"
                   f" {work.task.revision}", 200, post_id=post_id)  # fmt: skip


async def retract(work: Work, post_id: str) -> Attempt:
    return await delete(work, NAME, post_id)
