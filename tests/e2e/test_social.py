"""Native social publishing end to end: ingest, router and publisher on the bundled broker,
posting to a local server that speaks the platforms' documented APIs (Graph for Facebook and
Instagram, Threads, TikTok's Content Posting API, YouTube's Data API). One announcement with
an image and a video to a region with one channel of each scheme posts once to each and
records every post id; a channel whose token Graph says expired (code 190) becomes
needs_reconnect and is not tried again; a correction edits the Facebook post and the YouTube
video and posts anew elsewhere; a cancel deletes the posts where the platform allows it
(Facebook, YouTube, Threads: there the first post and the correction's) and reports
not_supported elsewhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from siaran_shared.events import (
    ChannelHealth,
    ChannelHealthChanged,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryStatus,
)
from siaran_shared.events.topics import CHANNEL_HEALTH, RESULTS

from services.publisher.tests.platforms.servers import (
    GOOGLE_TOKEN,
    TIKTOK_TOKEN,
    TOKEN,
    Platforms,
)
from tests.e2e.harness import RunningStack, eventually, read_to_end, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]

REGION = "73.03"
G = "/graph/v23.0"
EXPIRED = {"error": {"message": "Error validating access token: Session has expired",
                     "type": "OAuthException", "code": 190, "error_subcode": 463}}  # fmt: skip
REASON = "the Facebook token of this channel expired or was revoked; save the channel again"
CHANNELS = {
    "fb": ("facebook", "facebook://1234567890?token={secret:PAGE_TOKEN}"),
    "ig": ("instagram", "instagram://17841400000000000?token={secret:PAGE_TOKEN}"),
    "th": ("threads", "threads://9988?token={secret:PAGE_TOKEN}"),
    "tt": (
        "tiktok",
        "tiktok://?token={secret:TT_TOKEN}&refresh={secret:TT_REFRESH}"
        "&client_id={secret:TT_CLIENT_KEY}&client_secret={secret:TT_CLIENT_SECRET}",
    ),
    "yt": ("youtube", "youtube://UC1234567890123456789012?token={secret:PAGE_TOKEN}"),
    "fb-expired": ("facebook", "facebook://999?token={secret:OLD_PAGE_TOKEN}"),
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def platforms() -> AsyncIterator[Platforms]:
    p = Platforms()
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def social(
    tmp_path_factory: pytest.TempPathFactory, platforms: Platforms
) -> AsyncIterator[RunningStack]:
    home: Path = tmp_path_factory.mktemp("siaran-social")
    secrets = home / "secrets"
    secrets.mkdir()
    (secrets / "PAGE_TOKEN").write_text(TOKEN)
    (secrets / "OLD_PAGE_TOKEN").write_text("EAAexpired-token-value")
    tiktok = {"TT_TOKEN": "act.initial", "TT_REFRESH": "R0", "TT_CLIENT_KEY": "aw-key",
              "TT_CLIENT_SECRET": "CS", "TOKEN_KEY": Fernet.generate_key().decode()}  # fmt: skip
    for name, value in tiktok.items():
        (secrets / name).write_text(value)
    b = platforms.bases()
    env = {
        "SIARAN_SECRETS_DIR": str(secrets),
        "SIARAN_GRAPH_API_URL": b.graph, "SIARAN_THREADS_API_URL": b.threads,
        "SIARAN_TIKTOK_API_URL": b.tiktok, "SIARAN_YOUTUBE_API_URL": b.youtube,
        "SIARAN_GOOGLE_TOKEN_URL": platforms.base + GOOGLE_TOKEN,
        "SIARAN_RETRY_BASE_SECONDS": "0.2", "SIARAN_RETRY_MAX_DELAY_SECONDS": "0.5",
        "SIARAN_PUBLISHER_SCHEDULE_POLL_SECONDS": "0.1",
    }  # fmt: skip
    running = await start_stack(home, env, services=("ingest", "router", "publisher"))
    try:
        yield running
    finally:
        await running.stop()


async def outcomes(stack: RunningStack, announcement: str) -> list[DeliveryCompleted]:
    records = await read_to_end(stack.stack.config.bootstrap, RESULTS)
    every = [DeliveryCompleted.model_validate_json(r.value or b"") for r in records]
    return [o for o in every if o.announcement_id == announcement]


def announcement_body(announcement: str, platforms: Platforms, **changes: Any) -> dict[str, Any]:
    return {
        "id": announcement,
        "title": "Vaksinasi gratis di Bantaeng",
        "body": "Pemerintah Kabupaten Bantaeng membuka layanan vaksinasi gratis.",
        "link": "https://example.go.id/berita/1",
        "target": {"regencies": [REGION]},
        "media": [
            {"url": f"{platforms.base}/files/poster.jpg", "type": "image", "alt": "Poster"},
            {"url": f"{platforms.base}/files/clip.mp4", "type": "video"},
        ],
    } | changes


async def announce(stack: RunningStack, platforms: Platforms, run: str, n: int) -> str:
    announcement = f"social-{run}-{n}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=announcement_body(announcement, platforms))
        assert r.status_code == 202, r.text
    return announcement


async def register(stack: RunningStack, run: str) -> dict[str, str]:
    """One channel of each scheme (and one with an expired token) in the region."""
    ids = {short: f"{short}-{run}" for short in CHANNELS}
    async with stack.client("router") as router:
        for short, (kind, endpoint) in CHANNELS.items():
            r = await router.put(f"/v1/channels/{ids[short]}", json={
                "region": REGION, "kind": kind, "name": f"Bantaeng {kind}", "endpoint": endpoint,
            })  # fmt: skip
            assert r.status_code == 201, r.text
    return ids


async def finished(
    stack: RunningStack, announcement: str, action: DeliveryAction, revision: int | None = None
) -> dict[str, DeliveryCompleted]:
    """The outcome of every channel's delivery (of that revision, if given), once all came."""

    async def done() -> dict[str, DeliveryCompleted] | None:
        got = {o.channel_id: o for o in await outcomes(stack, announcement)
               if o.action is action and revision in (None, o.revision)}  # fmt: skip
        return got if len(got) == len(CHANNELS) else None

    return await eventually(done, within=60, every=0.5, what=f"outcomes ({action})")


def check_posted_once_each(
    posted: dict[str, DeliveryCompleted], ids: dict[str, str], platforms: Platforms
) -> None:
    post_ids = {short: posted[ids[short]].post_id for short in CHANNELS}
    assert post_ids == {
        "fb": "111_333",
        "ig": "ig-media-1",
        "th": "th-post-1",
        "tt": "7300000000000000001",
        "yt": "yt-video-1",
        "fb-expired": None,
    }
    for short in ("fb", "ig", "th", "tt", "yt"):
        assert posted[ids[short]].status is DeliveryStatus.DELIVERED, posted[ids[short]]
    expired = posted[ids["fb-expired"]]
    assert expired.status is DeliveryStatus.FAILED
    assert REASON in (expired.response or "")
    # exactly once each, with the documented requests
    for path in (f"{G}/1234567890/photos", f"{G}/17841400000000000/media_publish",
                 "/threads/v1.0/9988/threads_publish", "/tiktok/v2/post/publish/video/init/",
                 "/google/upload/youtube/v3/videos"):  # fmt: skip
        assert len(platforms.made("POST", path)) == 1, path
    [refresh] = platforms.made("POST", TIKTOK_TOKEN)  # the TikTok token refreshed first
    assert refresh.form["refresh_token"] == "R0"
    [init] = platforms.made("POST", "/tiktok/v2/post/publish/video/init/")
    assert init.headers["Authorization"] == "Bearer A1"
    [photo] = platforms.made("POST", f"{G}/1234567890/photos")
    assert photo.form["url"] == f"{platforms.base}/files/poster.jpg"
    assert photo.headers["Authorization"] == f"Bearer {TOKEN}"


async def check_not_tried_again(
    stack: RunningStack, again: dict[str, DeliveryCompleted], ids: dict[str, str],
    platforms: Platforms,
) -> None:  # fmt: skip
    assert again[ids["fb-expired"]].status is DeliveryStatus.FAILED
    assert REASON in (again[ids["fb-expired"]].response or "")
    assert len(platforms.made("POST", f"{G}/999/photos")) == 1
    health = [ChannelHealthChanged.model_validate_json(r.value or b"") for r in
              await read_to_end(stack.stack.config.bootstrap, CHANNEL_HEALTH)]  # fmt: skip
    marks = [h for h in health if h.channel_id == ids["fb-expired"]]
    assert [h.state for h in marks] == [ChannelHealth.NEEDS_RECONNECT]


async def correct(
    stack: RunningStack, platforms: Platforms, announcement: str, ids: dict[str, str]
) -> dict[str, DeliveryCompleted]:
    """Revision 2: Facebook and YouTube edit their post, the others post anew and say so."""
    title = "Vaksinasi gratis di Bantaeng (ralat: Senin)"
    async with stack.client("ingest") as ingest:
        body = announcement_body(announcement, platforms, title=title)
        r = await ingest.put(f"/v1/announcements/{announcement}", json=body)
        assert r.status_code == 202, r.text
    fixed = await finished(stack, announcement, DeliveryAction.PUBLISH, revision=2)
    for short, post_id in (("fb", "111_333"), ("yt", "yt-video-1")):
        assert fixed[ids[short]].post_id == post_id
        assert "edited to revision 2" in (fixed[ids[short]].response or "")
    for short in ("ig", "th", "tt"):
        assert fixed[ids[short]].status is DeliveryStatus.DELIVERED
        assert "posted as a new post" in (fixed[ids[short]].response or ""), short
    assert fixed[ids["fb-expired"]].status is DeliveryStatus.FAILED
    assert len(platforms.made("POST", f"{G}/111_333")) == 1  # the edit
    assert len(platforms.made("POST", f"{G}/1234567890/photos")) == 2  # two announcements
    [update] = platforms.made("PUT", "/google/youtube/v3/videos")
    assert update.body["snippet"]["title"] == title
    return fixed


def check_retracted(
    retracted: dict[str, DeliveryCompleted], ids: dict[str, str], platforms: Platforms
) -> None:
    statuses = {short: retracted[ids[short]].status for short in CHANNELS}
    skipped, deleted = DeliveryStatus.SKIPPED, DeliveryStatus.RETRACTED
    assert statuses == {"fb": deleted, "yt": deleted, "ig": skipped, "th": deleted,
                        "tt": skipped, "fb-expired": skipped}  # fmt: skip
    for short in ("ig", "tt"):
        assert (retracted[ids[short]].response or "").startswith("not_supported"), short
    assert len(platforms.made("DELETE", f"{G}/111_333")) == 1
    # Threads: the first post and the one its correction posted anew (th-post-2 is the
    # second announcement's, which stays)
    assert retracted[ids["th"]].response == "threads posts th-post-1, th-post-3 deleted"
    deletes = [c.path for c in platforms.calls if c.method == "DELETE" and "threads" in c.path]
    assert deletes == ["/threads/v1.0/th-post-1", "/threads/v1.0/th-post-3"]
    [delete] = platforms.made("DELETE", "/google/youtube/v3/videos")
    assert delete.query == {"id": "yt-video-1"}


async def test_one_announcement_posts_once_everywhere_and_a_cancel_deletes_what_it_can(
    social: RunningStack, platforms: Platforms
) -> None:
    run = uuid.uuid4().hex[:6]
    ids = await register(social, run)
    platforms.reply("POST", f"{G}/999/photos", 400, EXPIRED)  # once; a second call would post
    first = await announce(social, platforms, run, 1)
    posted = await finished(social, first, DeliveryAction.PUBLISH)
    check_posted_once_each(posted, ids, platforms)
    second = await announce(social, platforms, run, 2)  # the expired channel is not tried
    again = await finished(social, second, DeliveryAction.PUBLISH)
    await check_not_tried_again(social, again, ids, platforms)
    fixed = await correct(social, platforms, first, ids)
    async with social.client("ingest") as ingest:
        r = await ingest.post(f"/v1/announcements/{first}/cancel")
        assert r.status_code == 202, r.text
    retracted = await finished(social, first, DeliveryAction.RETRACT)
    check_retracted(retracted, ids, platforms)
    # no token in the logs or the outcomes
    every = [*posted.values(), *again.values(), *fixed.values(), *retracted.values()]
    said = social.log.read_text(errors="replace") + "".join(o.response or "" for o in every)
    for value in (TOKEN, "EAAexpired-token-value"):
        assert value not in said
