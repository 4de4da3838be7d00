"""YouTube through the Data API v3: `videos.insert` as a resumable upload (`POST
/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status` with the video's
metadata, then `PUT` of the bytes to the session URI it answers with in `Location`), the
video streamed from the announcement's URL to YouTube chunk by chunk, never held whole in
memory. A correction is `videos.update` of the snippet; a retraction is `videos.delete`
(`DELETE /youtube/v3/videos?id=`). The token is an OAuth access token with the
`youtube.upload` scope (and `youtube` to edit or delete).

The upload session's URI is kept in the store before the first byte goes, so a retry (after
a timeout, a dropped connection or a restart) asks YouTube how far that session got (`PUT`
with `Content-Range: bytes */SIZE`): done (200/201 with the video) is delivered without a
second upload, a `308 Resume Incomplete` with `Range: bytes=0-N` resumes from byte N+1
(the download skips what YouTube has), and an expired session (404, 410) starts a new one.

The download is bounded: http(s) only, the endpoint safety rules, a video/* type and at
most MAX_VIDEO_BYTES; the whole send stays inside the transport's time limit for uploads
(SIARAN_UPLOAD_TIMEOUT_SECONDS)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp
from siaran_publisher.outcome import Attempt, Verdict
from siaran_publisher.platforms.common import (
    PlatformError,
    Work,
    delivered,
    json_of,
    later,
    media_required,
    reconnect,
    refused,
)
from siaran_shared.netguard import refused_reason
from yarl import URL

NAME = "youtube"
TITLE_LIMIT = 100
DESCRIPTION_BYTES = 5_000
MAX_VIDEO_BYTES = 2 * 1024**3
#: `errors[].reason` values that mean "not now" rather than "never"
THROTTLED = frozenset({"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"})
#: a daily quota refills at midnight Pacific time; an hour is a fair next look
QUOTA_WAIT = 3600.0
#: a send here streams a video, so it runs under the transport's upload time limit
UPLOADS = True
#: bytes read at a time while skipping what a resumed session already has
SKIP_CHUNK = 1024 * 1024


async def judge(response: aiohttp.ClientResponse) -> PlatformError:
    """A failed Data API call: `{"error": {"code", "message", "errors": [{"reason"}]}}`."""
    body = await json_of(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
    message = str(error.get("message") or f"HTTP {response.status}")
    status = response.status
    if status == 401:
        return PlatformError(reconnect(NAME, message))
    if status == 429 or reasons & THROTTLED:
        return PlatformError(later(NAME, message, status, QUOTA_WAIT))
    if status >= 500:
        return PlatformError(later(NAME, message, status, None))
    return PlatformError(refused(NAME, status, message))


def metadata(work: Work) -> dict[str, Any]:
    description = work.task.text.encode()[:DESCRIPTION_BYTES].decode(errors="ignore")
    return {
        "snippet": {"title": work.task.title[:TITLE_LIMIT], "description": description,
                    "categoryId": work.account.options.get("category", "25")},  # News & Politics
        "status": {"privacyStatus": work.account.options.get("privacy", "public")},
    }  # fmt: skip


async def publish(work: Work) -> Attempt:
    video = work.media("video")
    if video is None:
        return media_required(NAME)
    if reason := refused_reason(urlsplit(video.url).hostname, work.allow):
        return refused(NAME, 400, f"video URL refused: {reason}")
    async with work.session.get(video.url, allow_redirects=False) as source:
        if source.status != 200:  # redirects are not followed: the URL must be the file's
            said = f"video download answered HTTP {source.status}"
            if source.status in (408, 429) or source.status >= 500:
                return later(NAME, said, None, None)
            return refused(NAME, 400, said)
        kind = source.headers.get("Content-Type", "").split(";")[0].strip()
        size = source.content_length
        if not kind.startswith("video/"):
            return refused(NAME, 415, f"the video URL serves {kind or 'no type'}, not video/*")
        if size is None or size > MAX_VIDEO_BYTES:
            return refused(NAME, 413, f"video size {size} unknown or over {MAX_VIDEO_BYTES}")
        session_uri, start, done = await resume_or_open(work, kind, size)
        if done is None:
            await skip(source.content, start)
            span = {"Content-Range": f"bytes {start}-{size - 1}/{size}"} if start else {}
            async with work.session.put(
                session_uri, data=source.content, headers=work.auth | span | {
                "Content-Length": str(size - start), "Content-Type": kind},
                allow_redirects=False,
            ) as uploaded:  # fmt: skip
                if uploaded.status not in (200, 201):
                    raise await judge(uploaded)
                done = str((await json_of(uploaded))["id"])
    await work.posts.note(work.task.delivery_id, post_id=done)
    return delivered(NAME, done)


async def resume_or_open(work: Work, kind: str, size: int) -> tuple[URL, int, str | None]:
    """The upload session to use, the byte to go on from, and the video's id if that
    session already finished (its answer lost to a timeout or a crash)."""
    recorded = (await work.posts.get(work.task.delivery_id)).get("upload")
    if recorded:
        session = URL(recorded)
        async with work.session.put(
            session, headers=work.auth | {"Content-Range": f"bytes */{size}",
            "Content-Length": "0"}, allow_redirects=False,
        ) as status:  # fmt: skip
            if status.status in (200, 201):
                return session, size, str((await json_of(status))["id"])
            if status.status == 308:  # Resume Incomplete: `Range: bytes=0-N` is what it has
                have = status.headers.get("Range", "")
                return session, int(have.rpartition("-")[2]) + 1 if have else 0, None
            if status.status not in (404, 410):  # 404/410: expired, a new session below
                raise await judge(status)
    session = await open_upload(work, kind, size)
    await work.posts.note(work.task.delivery_id, upload=str(session))
    return session, 0, None


async def skip(content: aiohttp.StreamReader, count: int) -> None:
    """Read past the first `count` bytes of a download, a chunk at a time."""
    while count > 0:
        chunk = await content.read(min(count, SKIP_CHUNK))
        if not chunk:
            raise PlatformError(later(NAME, "the video download ended early", None, None))
        count -= len(chunk)


async def open_upload(work: Work, kind: str, size: int) -> URL:
    """Start a resumable upload session; its URI, which must stay on the API's origin."""
    headers = work.auth | {"X-Upload-Content-Type": kind, "X-Upload-Content-Length": str(size)}
    async with work.session.post(
        f"{work.base}/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        json=metadata(work), headers=headers, allow_redirects=False,
    ) as response:  # fmt: skip
        if response.status != 200:
            raise await judge(response)
        location = URL(response.headers.get("Location", ""))
    if not location.is_absolute() or location.origin() != URL(work.base).origin():
        raise PlatformError(refused(NAME, 502, "upload session URI outside the API's origin"))
    return location


async def edit(work: Work, post_id: str) -> Attempt:
    """A correction: `videos.update` (`PUT /youtube/v3/videos?part=snippet`) with the new
    title and description (the snippet's categoryId must be given again)."""
    body = {"id": post_id, "snippet": metadata(work)["snippet"]}
    async with work.session.put(
        f"{work.base}/youtube/v3/videos", params={"part": "snippet"}, json=body,
        headers=work.auth, allow_redirects=False,
    ) as response:  # fmt: skip
        if response.status != 200:
            raise await judge(response)
    return Attempt(Verdict.DELIVERED, f"{NAME} post_id={post_id} edited to revision"
                   f" {work.task.revision}", 200, post_id=post_id)  # fmt: skip


async def retract(work: Work, post_id: str) -> Attempt:
    async with work.session.delete(
        f"{work.base}/youtube/v3/videos", params={"id": post_id}, headers=work.auth,
        allow_redirects=False,
    ) as response:  # fmt: skip
        if response.status not in (200, 204):
            raise await judge(response)
    return Attempt(Verdict.DELIVERED, f"{NAME} video {post_id} deleted", status=response.status)
