"""The platform adapters behind the delivery logic: the transport picks them by scheme, the
outcome records the post id, a platform that needs media skips without it, an expired token
marks the channel "needs reconnect", and a cancel deletes where the platform allows."""

from __future__ import annotations

import pytest
from siaran_publisher.platforms import containers
from siaran_shared.events import ChannelHealth, DeliveryAction, DeliveryStatus

from ..conftest import Harness
from .conftest import TOKEN, Platforms, image, task

FB = "facebook://1234567890?token={secret:PAGE_TOKEN}"


async def test_a_facebook_post_is_delivered_with_its_post_id_and_deleted_on_cancel(
    native: Harness, platforms: Platforms
) -> None:
    post = task(FB, image())
    [outcome] = await native.run(post)
    assert outcome.status is DeliveryStatus.DELIVERED
    assert "post_id=111_333" in (outcome.response or "")
    assert outcome.post_id == "111_333"
    [retracted] = await native.run(post.model_copy(update={"action": DeliveryAction.RETRACT}))
    assert retracted.status is DeliveryStatus.RETRACTED
    assert len(platforms.made("DELETE", "/graph/v23.0/111_333")) == 1
    assert len(platforms.made("POST", "/graph/v23.0/1234567890/photos")) == 1


async def test_instagram_without_media_ends_skipped_media_required(
    native: Harness, platforms: Platforms
) -> None:
    [outcome] = await native.run(task("instagram://1784?token={secret:PAGE_TOKEN}"))
    assert outcome.status is DeliveryStatus.SKIPPED
    assert (outcome.response or "").startswith("media_required")
    assert platforms.calls == []


async def test_graph_code_190_fails_at_once_and_the_channel_stays_needs_reconnect(
    native: Harness, platforms: Platforms
) -> None:
    error = {"message": "Error validating access token", "type": "OAuthException", "code": 190}
    platforms.reply("POST", "/graph/v23.0/1234567890/feed", 400, {"error": error})
    [outcome] = await native.run(task(FB))
    assert outcome.status is DeliveryStatus.FAILED
    said = "the Facebook token of this channel expired or was revoked; save the channel again"
    assert said in (outcome.response or "")
    assert TOKEN not in (outcome.response or "")
    [later] = await native.run(task(FB, delivery_id="a2:c1"))  # not tried: failed at once
    assert later.status is DeliveryStatus.FAILED
    assert said in (later.response or "")
    assert len(platforms.made("POST", "/graph/v23.0/1234567890/feed")) == 1
    changes = native.delivery.breakers.drain_changes()
    assert [c.state for c in changes] == [ChannelHealth.NEEDS_RECONNECT]  # said once


async def test_polling_a_container_in_progress_is_no_failure_of_the_channel(
    native: Harness, platforms: Platforms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(containers, "POLL_SECONDS", 0.01)
    platforms.statuses = ["IN_PROGRESS"] * 6 + ["FINISHED"]
    ig = "instagram://1784?token={secret:PAGE_TOKEN}"
    [outcome] = await native.run(task(ig, image()))
    assert outcome.status is DeliveryStatus.DELIVERED
    assert native.delivery.breakers.drain_changes() == []  # never degraded, never open
    assert len(platforms.made("POST", "/graph/v23.0/1784/media")) == 1
    assert len(platforms.made("POST", "/graph/v23.0/1784/media_publish")) == 1
