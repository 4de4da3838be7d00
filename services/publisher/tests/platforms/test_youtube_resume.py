"""YouTube's resumable upload after an interruption, against a local server speaking the
protocol: the session is kept, a retry asks how far it got and sends only the rest; a video
whose answer was lost is not uploaded twice; an expired session starts again."""

from __future__ import annotations

from siaran_publisher.outcome import Verdict
from siaran_publisher.platforms.sender import PlatformSender, uploads

from .conftest import Platforms, task, video
from .servers import VIDEO

YT = "youtube://UCxYz0123456789abcdefGHI?token={secret:PAGE_TOKEN}"
SESSION = "/google/upload-session"
START = "/google/upload/youtube/v3/videos"
SIZE = len(VIDEO)


async def test_an_interrupted_upload_resumes_where_the_session_stopped(
    sender: PlatformSender, platforms: Platforms
) -> None:
    platforms.upload_breaks_after = 50_000
    clip = task(YT, video(platforms.base))
    first = await sender.send(clip)
    assert first.verdict is Verdict.RETRY
    assert "Backend Error" in first.summary
    second = await sender.send(clip)
    assert second.verdict is Verdict.DELIVERED
    assert second.post_id == "yt-video-1"
    assert len(platforms.made("POST", START)) == 1  # one session, resumed
    [upload, query, resumed] = platforms.made("PUT", SESSION)
    assert "Content-Range" not in upload.headers
    assert query.headers["Content-Range"] == f"bytes */{SIZE}"
    assert query.headers["Content-Length"] == "0"
    assert resumed.headers["Content-Range"] == f"bytes 50000-{SIZE - 1}/{SIZE}"
    assert resumed.headers["Content-Length"] == str(SIZE - 50_000)
    assert platforms.session_bytes == SIZE  # the video whole, each byte once


async def test_a_finished_upload_whose_answer_was_lost_is_not_uploaded_again(
    sender: PlatformSender, platforms: Platforms
) -> None:
    platforms.upload_answer_lost = True
    clip = task(YT, video(platforms.base))
    assert (await sender.send(clip)).verdict is Verdict.RETRY
    again = await sender.send(clip)
    assert again.verdict is Verdict.DELIVERED
    assert again.post_id == "yt-video-1"
    assert platforms.uploaded == SIZE  # the status query found the video: no second upload
    assert len(platforms.made("POST", START)) == 1


async def test_an_expired_session_starts_a_new_one(
    sender: PlatformSender, platforms: Platforms
) -> None:
    platforms.upload_breaks_after = 10_000
    clip = task(YT, video(platforms.base))
    assert (await sender.send(clip)).verdict is Verdict.RETRY
    platforms.session_expired = True
    again = await sender.send(clip)
    assert again.verdict is Verdict.DELIVERED
    assert len(platforms.made("POST", START)) == 2
    assert platforms.session_bytes == SIZE


def test_only_video_uploads_get_the_upload_time_limit() -> None:
    assert uploads(YT)
    assert not uploads("facebook://1234567890?token={secret:PAGE_TOKEN}")
    assert not uploads("https://example.go.id/hook")
