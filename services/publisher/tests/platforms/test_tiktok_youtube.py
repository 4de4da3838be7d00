"""TikTok's Content Posting API and YouTube's resumable videos.insert against a local server
speaking them: the documented requests, post ids, expired tokens, rate limits, refusals,
posts still processing, and retraction (YouTube deletes; TikTok cannot)."""

from __future__ import annotations

from siaran_publisher.outcome import Verdict
from siaran_publisher.platforms.sender import PlatformSender
from siaran_shared.events import DeliveryAction, Media

from .conftest import TOKEN, Platforms, image, task, video
from .servers import VIDEO

TT = "tiktok://?token={secret:PAGE_TOKEN}&privacy=SELF_ONLY"
YT = "youtube://UCxYz_Chan?token={secret:PAGE_TOKEN}"
VIDEO_INIT = "/tiktok/v2/post/publish/video/init/"
PHOTO_INIT = "/tiktok/v2/post/publish/content/init/"
STATUS = "/tiktok/v2/post/publish/status/fetch/"
CREATOR = "/tiktok/v2/post/publish/creator_info/query/"


async def test_tiktok_video_is_pulled_from_url_and_its_status_fetched_until_complete(
    sender: PlatformSender, platforms: Platforms
) -> None:
    platforms.statuses = ["PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE"]
    clip = task(TT, video(platforms.base))
    first = await sender.send(clip)
    assert first.verdict is Verdict.RETRY
    second = await sender.send(clip)
    assert second.verdict is Verdict.DELIVERED
    assert "post_id=7300000000000000001" in second.summary
    assert second.post_id == "7300000000000000001"
    [init] = platforms.made("POST", VIDEO_INIT)
    assert init.body == {
        "post_info": {"title": "Vaksinasi gratis di Bantaeng", "privacy_level": "SELF_ONLY"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": f"{platforms.base}/files/clip.mp4"},
    }
    assert init.headers["Authorization"] == f"Bearer {TOKEN}"
    assert [c.body for c in platforms.made("POST", STATUS)] == [
        {"publish_id": "v_pub_url~v2.123"}
    ] * 2


async def test_tiktok_images_make_a_photo_post(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(TT, image()))
    assert attempt.verdict is Verdict.DELIVERED
    [init] = platforms.made("POST", PHOTO_INIT)
    assert init.body["media_type"] == "PHOTO"
    assert init.body["post_mode"] == "DIRECT_POST"
    assert init.body["source_info"] == {
        "source": "PULL_FROM_URL",
        "photo_cover_index": 0,
        "photo_images": ["https://cdn.example.go.id/a.jpg"],
    }


async def test_tiktok_errors_mean_reconnect_retry_or_refusal(
    sender: PlatformSender, platforms: Platforms
) -> None:
    def error(code: str) -> dict[str, object]:
        return {"data": {}, "error": {"code": code, "message": f"{code} said", "log_id": "1"}}

    platforms.reply("POST", PHOTO_INIT, 401, error("access_token_invalid"))
    platforms.reply("POST", PHOTO_INIT, 429, error("rate_limit_exceeded"))
    platforms.reply("POST", PHOTO_INIT, 403, error("url_ownership_unverified"))
    expired, throttled, refused = [await sender.send(task(TT, image())) for _ in range(3)]
    platforms.reply("POST", CREATOR, 403, error("spam_risk_too_many_posts"))
    capped = await sender.send(task(TT, image()))
    assert (expired.verdict, expired.needs_reconnect) == (Verdict.PERMANENT, True)
    assert expired.token_dead
    assert (throttled.verdict, throttled.retry_after) == (Verdict.RETRY, 60.0)
    assert (refused.verdict, refused.needs_reconnect) == (Verdict.PERMANENT, False)
    assert "url_ownership_unverified" in refused.summary
    assert (capped.verdict, capped.retry_after) == (Verdict.RETRY, 3600.0)  # a daily cap


async def test_tiktok_asks_the_creator_info_first_and_keeps_to_its_privacy_levels(
    sender: PlatformSender, platforms: Platforms
) -> None:
    assert (await sender.send(task(TT, image()))).verdict is Verdict.DELIVERED
    assert [c.path for c in platforms.calls][:2] == [CREATOR, PHOTO_INIT]
    platforms.privacy_levels = ["SELF_ONLY"]  # an unaudited app
    public = "tiktok://?token={secret:PAGE_TOKEN}"  # PUBLIC_TO_EVERYONE by default
    attempt = await sender.send(task(public, image(), delivery_id="a1:c2"))
    assert attempt.verdict is Verdict.PERMANENT
    assert "privacy level PUBLIC_TO_EVERYONE is not offered" in attempt.summary
    assert "it offers SELF_ONLY" in attempt.summary
    assert len(platforms.made("POST", PHOTO_INIT)) == 1  # no init for the refused one


async def test_tiktok_without_media_is_media_required_and_cannot_retract(
    sender: PlatformSender, platforms: Platforms
) -> None:
    assert (await sender.send(task(TT))).summary.startswith("media_required")
    await sender.send(task(TT, image()))
    retraction = await sender.send(task(TT, image(), action=DeliveryAction.RETRACT))
    assert retraction.summary.startswith("not_supported")


async def test_youtube_uploads_the_video_resumably_and_deletes_it_on_retraction(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(YT, video(platforms.base)))
    assert attempt.verdict is Verdict.DELIVERED
    assert "post_id=yt-video-1" in attempt.summary
    assert attempt.post_id == "yt-video-1"
    assert platforms.uploaded == len(VIDEO)
    [start] = platforms.made("POST", "/google/upload/youtube/v3/videos")
    assert start.query == {"uploadType": "resumable", "part": "snippet,status"}
    assert start.headers["X-Upload-Content-Type"] == "video/mp4"
    assert start.headers["X-Upload-Content-Length"] == str(len(VIDEO))
    assert start.body["snippet"]["title"] == "Vaksinasi gratis"
    retraction = await sender.send(task(YT, action=DeliveryAction.RETRACT))
    assert retraction.verdict is Verdict.DELIVERED
    [delete] = platforms.made("DELETE", "/google/youtube/v3/videos")
    assert delete.query == {"id": "yt-video-1"}


async def test_youtube_401_reconnect_quota_retry_and_no_video_media_required(
    sender: PlatformSender, platforms: Platforms
) -> None:
    path = "/google/upload/youtube/v3/videos"
    platforms.reply(
        "POST",
        path,
        401,
        {
            "error": {
                "code": 401,
                "message": "Invalid Credentials",
                "errors": [{"reason": "authError"}],
            }
        },
    )
    platforms.reply(
        "POST",
        path,
        403,
        {
            "error": {
                "code": 403,
                "message": "quota",
                "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
            }
        },
    )
    clip = task(YT, video(platforms.base))
    expired, quota = await sender.send(clip), await sender.send(clip)
    assert expired.needs_reconnect
    assert expired.token_dead
    assert (quota.verdict, quota.retry_after) == (Verdict.RETRY, 3600.0)
    assert (await sender.send(task(YT, image()))).summary.startswith("media_required")
    assert platforms.uploaded == 0


async def test_a_youtube_video_url_that_is_gone_is_refused_without_an_upload(
    sender: PlatformSender, platforms: Platforms
) -> None:
    gone = task(YT, Media(url=f"{platforms.base}/files/missing.mp4", type="video"))
    attempt = await sender.send(gone)
    assert attempt.verdict is Verdict.PERMANENT
    assert "HTTP 404" in attempt.summary
    assert platforms.made("POST", "/google/upload/youtube/v3/videos") == []
