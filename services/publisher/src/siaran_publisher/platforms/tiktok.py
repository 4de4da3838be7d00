"""TikTok through the Content Posting API (Direct Post, `PULL_FROM_URL`: TikTok fetches the
media from the announcement's URLs, whose domain the app must have verified):
`POST /v2/post/publish/video/init/` for a video, `POST /v2/post/publish/content/init/`
(`media_type=PHOTO`) for images, then `POST /v2/post/publish/status/fetch/` until
PUBLISH_COMPLETE. Before each new post, `POST /v2/post/publish/creator_info/query/`, as
Direct Post asks: the account may post now, and offers the privacy level asked for. Every
answer is `{"data": {...}, "error": {"code", "message", "log_id"}}` with code "ok" on
success; a daily posting cap (`spam_risk_too_many_posts`, `reached_active_user_cap`) is
tried again an hour later. The token is a user access token with `video.publish`; the
channel line may set `privacy=` (default PUBLIC_TO_EVERYONE; unaudited apps may only post
SELF_ONLY). TikTok's API cannot delete posts."""

from __future__ import annotations

from typing import Any

from siaran_publisher.outcome import Attempt
from siaran_publisher.platforms.common import (
    PlatformError,
    Work,
    delivered,
    json_of,
    later,
    media_required,
    not_supported,
    reconnect,
    refused,
)

NAME = "tiktok"
VIDEO_TITLE_LIMIT = 2_200
PHOTO_TITLE_LIMIT = 90
PHOTO_DESCRIPTION_LIMIT = 4_000
#: TikTok takes up to 35 images in one photo post; an announcement carries at most 10.
RECONNECT = frozenset({"access_token_invalid", "scope_not_authorized", "token_not_authorized"})
POLL_SECONDS = 30.0
#: TikTok allows 6 init calls a minute per token
RATE_WAIT = 60.0
#: the account's or the app's daily posting caps: not now, but later
DAILY_CAP = frozenset({"spam_risk_too_many_posts", "reached_active_user_cap"})
DAILY_CAP_WAIT = 3600.0
CREATOR_INFO = "/v2/post/publish/creator_info/query/"


async def call(work: Work, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One Content Posting API call: its `data`, or PlatformError saying what the answer means."""
    headers = work.auth | {"Content-Type": "application/json; charset=UTF-8"}
    async with work.session.post(
        f"{work.base}{path}", json=body, headers=headers, allow_redirects=False
    ) as response:
        answer = await json_of(response)
        status = response.status
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    assert isinstance(error, dict)
    code = str(error.get("code", "ok" if status < 400 else f"HTTP {status}"))
    if code == "ok" and status < 400:
        data = answer.get("data")
        return data if isinstance(data, dict) else {}
    message = f"{code}: {error.get('message') or 'no message'}"
    if code in RECONNECT or status == 401:
        raise PlatformError(reconnect(NAME, message))
    if code == "rate_limit_exceeded" or status == 429:
        raise PlatformError(later(NAME, message, status, RATE_WAIT))
    if code in DAILY_CAP:
        raise PlatformError(later(NAME, message, status, DAILY_CAP_WAIT))
    if code == "internal_error" or status >= 500:
        raise PlatformError(later(NAME, message, status, None))
    raise PlatformError(refused(NAME, status, message))


def init_request(work: Work) -> tuple[str, dict[str, Any]] | None:
    """The init endpoint and body for the announcement's media; None without media."""
    privacy = work.account.options.get("privacy", "PUBLIC_TO_EVERYONE")
    images = [m.url for m in work.task.media if m.type == "image"]
    if (video := work.media("video")) is not None:
        return "/v2/post/publish/video/init/", {
            "post_info": {"title": work.caption(VIDEO_TITLE_LIMIT), "privacy_level": privacy},
            "source_info": {"source": "PULL_FROM_URL", "video_url": video.url},
        }
    if images:
        return "/v2/post/publish/content/init/", {
            "media_type": "PHOTO",
            "post_mode": "DIRECT_POST",
            "post_info": {
                "title": work.task.title[:PHOTO_TITLE_LIMIT],
                "description": work.caption(PHOTO_DESCRIPTION_LIMIT),
                "privacy_level": privacy,
            },
            "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                            "photo_images": images},
        }  # fmt: skip
    return None


async def publish(work: Work) -> Attempt:
    delivery = work.task.delivery_id
    publish_id = (await work.posts.get(delivery)).get("publish_id")
    if not publish_id:
        request = init_request(work)
        if request is None:
            return media_required(NAME)
        await check_creator(work, request[1]["post_info"]["privacy_level"])
        publish_id = str((await call(work, *request))["publish_id"])
        await work.posts.note(delivery, publish_id=publish_id)
    status = await call(work, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})
    state = str(status.get("status", ""))
    if state == "PUBLISH_COMPLETE":
        ids = status.get("publicaly_available_post_id") or [publish_id]  # TikTok's spelling
        post_id = str(ids[0])
        await work.posts.note(delivery, post_id=post_id)
        return delivered(NAME, post_id)
    if state == "FAILED":
        await work.posts.note(delivery, publish_id="")  # a retry starts a new post
        return refused(NAME, 400, f"post failed: {status.get('fail_reason', 'no reason')}")
    return later(NAME, f"post still processing ({state or 'no status'})", 202, POLL_SECONDS)


async def check_creator(work: Work, privacy: str) -> None:
    """The account's creator info: the privacy level the channel line asks for must be one
    it offers (an unaudited app's, or a private account's, offers fewer)."""
    offered = (await call(work, CREATOR_INFO, {})).get("privacy_level_options") or []
    if offered and privacy not in offered:
        raise PlatformError(refused(NAME, 400, f"privacy level {privacy} is not offered to"
                                    f" this account (it offers {', '.join(map(str, offered))});"
                                    " set privacy= in the channel line"))  # fmt: skip


async def retract(work: Work, post_id: str) -> Attempt:
    return not_supported(NAME)
