"""Corrections (revision 2 or later) of a delivery already posted: Facebook and YouTube edit
the post they made (found in the stored platform posts); Instagram, Threads and TikTok cannot
edit by API, so the corrected text goes out as a new post and the outcome says so."""

from __future__ import annotations

from siaran_publisher.outcome import Verdict
from siaran_publisher.platforms.sender import PlatformSender
from siaran_shared.events import DeliveryAction, DeliveryStatus

from ..conftest import Harness
from .conftest import Platforms, image, task, video

FB = "facebook://1234567890?token={secret:PAGE_TOKEN}"
TH = "threads://9988?token={secret:PAGE_TOKEN}"
YT = "youtube://UC1234567890123456789012?token={secret:PAGE_TOKEN}"


async def test_a_facebook_correction_edits_the_post_it_made(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(FB, image()))
    fixed = task(FB, image(), revision=2, text="Vaksinasi gratis di Bantaeng, Senin")
    edited = await sender.send(fixed)
    again = await sender.send(fixed)  # a copy after a crash: no second edit
    assert edited.verdict is Verdict.DELIVERED
    assert edited.post_id == "111_333"
    assert "edited to revision 2" in edited.summary
    [edit] = platforms.made("POST", "/graph/v23.0/111_333")
    assert edit.form == {"message": "Vaksinasi gratis di Bantaeng, Senin"}
    assert again.post_id == "111_333"
    assert len(platforms.made("POST", "/graph/v23.0/1234567890/photos")) == 1


async def test_a_youtube_correction_updates_the_videos_title_and_description(
    sender: PlatformSender, platforms: Platforms
) -> None:
    clip = video(platforms.base)
    await sender.send(task(YT, clip))
    edited = await sender.send(task(YT, clip, revision=2, title="Vaksinasi (ralat)"))
    assert edited.verdict is Verdict.DELIVERED
    assert edited.post_id == "yt-video-1"
    [update] = platforms.made("PUT", "/google/youtube/v3/videos")
    assert update.query == {"part": "snippet"}
    assert update.body["id"] == "yt-video-1"
    assert update.body["snippet"]["title"] == "Vaksinasi (ralat)"
    assert update.body["snippet"]["categoryId"] == "25"


async def test_threads_cannot_edit_so_a_correction_is_a_new_post_and_says_so(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(TH))
    platforms.reply("POST", "/threads/v1.0/9988/threads", 200, {"id": "th-container-2"})
    platforms.reply("POST", "/threads/v1.0/9988/threads_publish", 200, {"id": "th-post-2"})
    fixed = await sender.send(task(TH, revision=2, text="ralat"))
    assert fixed.verdict is Verdict.DELIVERED
    assert fixed.post_id == "th-post-2"
    assert "cannot edit a post by API" in fixed.summary
    assert "posted as a new post" in fixed.summary
    creates = platforms.made("POST", "/threads/v1.0/9988/threads")
    assert [c.form["text"] for c in creates] == ["Vaksinasi gratis di Bantaeng", "ralat"]
    [_, second] = platforms.made("POST", "/threads/v1.0/9988/threads_publish")
    assert second.form == {"creation_id": "th-container-2"}
    again = await sender.send(task(TH, revision=2, text="ralat"))
    assert again.post_id == "th-post-2"
    assert len(platforms.made("POST", "/threads/v1.0/9988/threads_publish")) == 2


async def test_a_cancel_after_a_correction_posted_anew_deletes_both_posts_once(
    sender: PlatformSender, platforms: Platforms
) -> None:
    await sender.send(task(TH))
    await sender.send(task(TH, revision=2, text="ralat"))
    retract = task(TH, revision=2, action=DeliveryAction.RETRACT)
    platforms.reply("DELETE", "/threads/v1.0/th-post-2", 500, {"error": {"code": 2}})
    failed = await sender.send(retract)  # the first post deleted, the second not yet
    assert failed.verdict is Verdict.RETRY
    attempt = await sender.send(retract)  # the retry deletes only what is left
    assert attempt.verdict is Verdict.DELIVERED
    assert attempt.summary == "threads post th-post-2 deleted"
    assert len(platforms.made("DELETE", "/threads/v1.0/th-post-1")) == 1
    assert len(platforms.made("DELETE", "/threads/v1.0/th-post-2")) == 2
    done = await sender.send(retract)  # its outcome lost: nothing is deleted twice
    assert done.verdict is Verdict.DELIVERED
    assert len([c for c in platforms.calls if c.method == "DELETE"]) == 3


async def test_a_correction_posted_first_is_not_posted_again_as_a_correction(
    sender: PlatformSender, platforms: Platforms
) -> None:
    first = await sender.send(task(TH, revision=2))  # revision 1 was never posted here
    again = await sender.send(task(TH, revision=2))
    assert first.post_id == again.post_id == "th-post-1"
    assert len(platforms.made("POST", "/threads/v1.0/9988/threads_publish")) == 1


async def test_a_correction_through_the_delivery_logic_edits_and_records_the_post_id(
    native: Harness, platforms: Platforms
) -> None:
    [posted] = await native.run(task(FB))
    [fixed] = await native.run(task(FB, revision=2, text="ralat"))
    assert (posted.status, fixed.status) == (DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED)
    assert (fixed.revision, fixed.post_id) == (2, "111_222")
    assert "edited to revision 2" in (fixed.response or "")
    [edit] = platforms.made("POST", "/graph/v23.0/111_222")
    assert edit.form == {"message": "ralat"}
    assert len(platforms.made("POST", "/graph/v23.0/1234567890/feed")) == 1
