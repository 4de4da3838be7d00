"""A token a platform refused keeps its channel "needs reconnect": no attempt reaches the
platform until the channel is saved again (a newer ChannelConfigured), and a restart, which
reads old configurations again, does not lift it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from siaran_publisher.breaker import Breakers
from siaran_publisher.outcome import Attempt, Verdict
from siaran_shared.events import Channel, ChannelHealth, DeliveryStatus, utcnow
from siaran_shared.store import open_store

from ..conftest import Harness
from .conftest import Platforms, image, native_harness, task

FB = "facebook://1234567890?token={secret:PAGE_TOKEN}"
FEED = "/graph/v23.0/1234567890/feed"
EXPIRED = {"error": {"message": "Session has expired", "type": "OAuthException", "code": 190}}


def channel() -> Channel:
    return Channel(id="c1", region="73.03", kind="facebook", name="Bantaeng", endpoint=FB)


async def test_saving_the_channel_again_lifts_needs_reconnect(
    native: Harness, platforms: Platforms
) -> None:
    before = utcnow() - timedelta(minutes=5)
    native.delivery.channels.apply("c1", channel(), before)
    platforms.reply("POST", FEED, 400, EXPIRED)
    [failed] = await native.run(task(FB))
    native.delivery.channels.apply("c1", channel(), before)  # the same save, read again
    [held] = await native.run(task(FB, delivery_id="a2:c1"))
    assert (failed.status, held.status) == (DeliveryStatus.FAILED, DeliveryStatus.FAILED)
    assert len(platforms.made("POST", FEED)) == 1
    native.delivery.channels.apply("c1", channel(), utcnow())  # saved with a new token
    [posted] = await native.run(task(FB, delivery_id="a3:c1"))
    assert posted.status is DeliveryStatus.DELIVERED
    assert posted.post_id == "111_222"
    states = [c.state for c in native.delivery.breakers.drain_changes()]
    assert states == [ChannelHealth.NEEDS_RECONNECT, ChannelHealth.HEALTHY]


async def test_needs_reconnect_survives_a_restart(tmp_path: Path, platforms: Platforms) -> None:
    (tmp_path / "PAGE_TOKEN").write_text("EAAold")
    saved = utcnow() - timedelta(hours=1)
    store = open_store(f"sqlite:///{tmp_path / 'publisher.db'}", "publisher")
    await store.connect()
    try:
        first = native_harness(store, tmp_path, platforms)
        platforms.reply("POST", "/graph/v23.0/1234567890/photos", 400, EXPIRED)
        [failed] = await first.run(task(FB, image()))
        await first.delivery.transport.close()
        restarted = native_harness(store, tmp_path, platforms)
        restarted.delivery.channels.apply("c1", channel(), saved)  # the topic read again
        [held] = await restarted.run(task(FB, image(), delivery_id="a2:c1"))
        await restarted.delivery.transport.close()
    finally:
        await store.close()
    assert failed.status is held.status is DeliveryStatus.FAILED
    assert "save the channel again with a new token" in (held.response or "")
    assert len(platforms.made("POST", "/graph/v23.0/1234567890/photos")) == 1


async def test_tiktok_access_token_invalid_stops_the_channel(
    native: Harness, platforms: Platforms
) -> None:
    error = {"code": "access_token_invalid", "message": "The access token is invalid"}
    init = "/tiktok/v2/post/publish/content/init/"
    platforms.reply("POST", init, 401, {"data": {}, "error": error | {"log_id": "1"}})
    tt = "tiktok://?token={secret:PAGE_TOKEN}"
    [failed] = await native.run(task(tt, image()))
    [held] = await native.run(task(tt, image(), delivery_id="a2:c1"))
    assert "the TikTok token of this channel expired or was revoked" in (held.response or "")
    assert failed.status is held.status is DeliveryStatus.FAILED
    assert len(platforms.made("POST", init)) == 1


def test_answers_to_sends_in_flight_when_the_token_was_refused_do_not_reopen_the_channel() -> None:
    breakers = Breakers(threshold=2, cooldown=30.0)
    c = breakers.circuit("c1", "facebook", "73")
    breakers.record(c, Attempt(Verdict.PERMANENT, "expired", 401, token_dead=True), 0.0)
    for _ in range(3):  # throttled and refused answers of sends already under way
        breakers.record(c, Attempt(Verdict.RETRY, "rate limited", 429), 1.0)
        breakers.record(c, Attempt(Verdict.PERMANENT, "bad media", 400), 1.0)
    assert breakers.admit(c, 100.0) == 0.0  # no probe by time: the transport refuses at once
    assert c.state is ChannelHealth.NEEDS_RECONNECT
    breakers.record(c, Attempt(Verdict.DELIVERED, "posted", 200), 2.0)  # saved again, posted
    states = [change.state for change in breakers.drain_changes()]
    assert states == [ChannelHealth.NEEDS_RECONNECT, ChannelHealth.HEALTHY]


async def test_a_router_clock_ahead_of_the_publishers_does_not_lift_the_mark(
    native: Harness, platforms: Platforms
) -> None:
    saved = utcnow() + timedelta(hours=1)  # the router's clock runs an hour ahead
    native.delivery.channels.apply("c1", channel(), saved)
    platforms.reply("POST", FEED, 400, EXPIRED)
    await native.run(task(FB))
    native.delivery.channels.apply("c1", channel(), saved)  # the same save, read again
    [held] = await native.run(task(FB, delivery_id="a2:c1"))
    assert held.status is DeliveryStatus.FAILED
    assert len(platforms.made("POST", FEED)) == 1
    native.delivery.channels.apply("c1", channel(), saved + timedelta(seconds=1))  # saved again
    [posted] = await native.run(task(FB, delivery_id="a3:c1"))
    assert posted.status is DeliveryStatus.DELIVERED
