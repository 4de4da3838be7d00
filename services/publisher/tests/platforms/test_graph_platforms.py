"""Facebook Pages, Instagram and Threads against a local server speaking the Graph and
Threads APIs: the documented requests, the post id in the outcome, expired tokens, rate
limits, permanent refusals, containers still processing, and retraction."""

from __future__ import annotations

import json

from siaran_publisher.outcome import Verdict
from siaran_publisher.platforms.sender import PlatformSender
from siaran_shared.events import DeliveryAction

from .conftest import TOKEN, Platforms, image, task, video

FB = "facebook://1234567890?token={secret:PAGE_TOKEN}"
IG = "instagram://17841400000000000?token={secret:PAGE_TOKEN}"
TH = "threads://9988?token={secret:PAGE_TOKEN}"
G = "/graph/v23.0"


async def test_facebook_text_goes_to_the_page_feed_with_the_token_in_a_header_only(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(FB))
    assert attempt.verdict is Verdict.DELIVERED
    assert "post_id=111_222" in attempt.summary
    assert attempt.post_id == "111_222"
    [call] = platforms.made("POST", f"{G}/1234567890/feed")
    assert call.form == {
        "message": "Vaksinasi gratis di Bantaeng",
        "link": "https://example.go.id/b/1",
    }
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in call.path
    assert not call.query


async def test_facebook_with_an_image_posts_a_photo(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(FB, image()))
    assert "post_id=111_333" in attempt.summary
    [call] = platforms.made("POST", f"{G}/1234567890/photos")
    assert call.form == {
        "url": "https://cdn.example.go.id/a.jpg",
        "caption": "Vaksinasi gratis di Bantaeng",
    }


async def test_an_expired_token_is_permanent_and_reads_as_needs_reconnect(
    sender: PlatformSender, platforms: Platforms
) -> None:
    error = {
        "message": "Error validating access token: Session has expired",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "A1",
    }
    platforms.reply("POST", f"{G}/1234567890/feed", 400, {"error": error})
    attempt = await sender.send(task(FB))
    assert attempt.verdict is Verdict.PERMANENT
    assert attempt.needs_reconnect
    assert "Session has expired" in attempt.summary


async def test_a_throttled_page_is_retried_after_the_time_graph_gives(
    sender: PlatformSender, platforms: Platforms
) -> None:
    usage = {
        "1234567890": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 10,
                "total_time": 10,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    error = {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32}
    platforms.reply(
        "POST",
        f"{G}/1234567890/feed",
        400,
        {"error": error},
        {"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    attempt = await sender.send(task(FB))
    assert attempt.verdict is Verdict.RETRY
    assert attempt.retry_after == 7 * 60
    assert not attempt.needs_reconnect


async def test_a_permanent_refusal_fails_at_once_with_the_platforms_message(
    sender: PlatformSender, platforms: Platforms
) -> None:
    error = {"message": "(#324) Requires upload file", "type": "OAuthException", "code": 324}
    platforms.reply("POST", f"{G}/1234567890/photos", 400, {"error": error})
    attempt = await sender.send(task(FB, image()))
    assert attempt.verdict is Verdict.PERMANENT
    assert "Requires upload file" in attempt.summary
    assert not attempt.needs_reconnect


async def test_facebook_retraction_deletes_the_recorded_post(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(FB))
    attempt = await sender.send(task(FB, action=DeliveryAction.RETRACT))
    assert attempt.verdict is Verdict.DELIVERED
    assert len(platforms.made("DELETE", f"{G}/111_222")) == 1


async def test_instagram_without_media_is_skipped_as_media_required(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(IG))
    assert attempt.verdict is Verdict.UNSUPPORTED
    assert attempt.summary.startswith("media_required")
    assert platforms.calls == []


async def test_an_instagram_reel_in_progress_is_polled_later_and_published_once(
    sender: PlatformSender, platforms: Platforms
) -> None:
    platforms.statuses = ["IN_PROGRESS", "FINISHED"]
    reel = task(IG, video(platforms.base))
    first = await sender.send(reel)
    assert first.verdict is Verdict.RETRY
    assert first.retry_after
    second = await sender.send(reel)  # as the retry schedule hands it back
    assert second.verdict is Verdict.DELIVERED
    assert "post_id=ig-media-1" in second.summary
    assert second.post_id == "ig-media-1"
    [create] = platforms.made("POST", f"{G}/17841400000000000/media")
    assert create.form == {
        "video_url": f"{platforms.base}/files/clip.mp4",
        "media_type": "REELS",
        "caption": "Vaksinasi gratis di Bantaeng",
    }
    assert [c.query for c in platforms.made("GET", f"{G}/ig-container-1")] == [
        {"fields": "status_code"}
    ] * 2
    [publish] = platforms.made("POST", f"{G}/17841400000000000/media_publish")
    assert publish.form == {"creation_id": "ig-container-1"}


async def test_instagram_after_a_restart_publishes_the_container_it_made_not_a_new_one(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.posts.note("a1:c1", container="ig-container-9")  # created before a crash
    attempt = await sender.send(task(IG, image()))
    assert attempt.verdict is Verdict.DELIVERED
    assert platforms.made("POST", f"{G}/17841400000000000/media") == []
    [publish] = platforms.made("POST", f"{G}/17841400000000000/media_publish")
    assert publish.form == {"creation_id": "ig-container-9"}
    again = await sender.send(task(IG, image()))  # the copy a crash may leave on the topic
    assert again.verdict is Verdict.DELIVERED
    assert len(platforms.made("POST", f"{G}/17841400000000000/media_publish")) == 1


async def test_instagram_retraction_is_not_supported(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(IG, image()))
    attempt = await sender.send(task(IG, image(), action=DeliveryAction.RETRACT))
    assert attempt.verdict is Verdict.UNSUPPORTED
    assert attempt.summary.startswith("not_supported")


async def test_threads_retraction_deletes_the_published_post(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(TH))
    attempt = await sender.send(task(TH, action=DeliveryAction.RETRACT))
    assert attempt.verdict is Verdict.DELIVERED
    assert attempt.summary == "threads post th-post-1 deleted"
    [delete] = platforms.made("DELETE", "/threads/v1.0/th-post-1")
    assert delete.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_threads_posts_a_video_with_its_description_as_alt_text(
    sender: PlatformSender, platforms: Platforms
) -> None:
    clip = video(platforms.base)
    clip = clip.model_copy(update={"alt": "Antrean vaksinasi di puskesmas"})
    platforms.statuses = ["IN_PROGRESS", "FINISHED"]  # a video takes a while to process
    first = await sender.send(task(TH, clip))
    assert first.verdict is Verdict.RETRY
    assert (await sender.send(task(TH, clip))).post_id == "th-post-1"
    [create] = platforms.made("POST", "/threads/v1.0/9988/threads")  # one container
    assert create.form == {"media_type": "VIDEO", "video_url": clip.url,
                           "alt_text": "Antrean vaksinasi di puskesmas",
                           "text": "Vaksinasi gratis di Bantaeng"}  # fmt: skip


async def test_threads_text_is_created_then_published(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task(TH))
    assert "post_id=th-post-1" in attempt.summary
    assert attempt.post_id == "th-post-1"
    [create] = platforms.made("POST", "/threads/v1.0/9988/threads")
    assert create.form == {"media_type": "TEXT", "text": "Vaksinasi gratis di Bantaeng"}
    [publish] = platforms.made("POST", "/threads/v1.0/9988/threads_publish")
    assert publish.form == {"creation_id": "th-container-1"}


async def test_a_channel_line_with_a_raw_token_is_refused_without_a_call(
    sender: PlatformSender, platforms: Platforms
) -> None:
    attempt = await sender.send(task("facebook://123?token=EAAraw"))
    assert attempt.verdict is Verdict.PERMANENT
    assert "EAAraw" not in attempt.summary
    assert platforms.calls == []
