"""Retries honour the channel as it is when they come due: deleted, disabled or
re-pointed after the announcement was accepted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from siaran_publisher.app import create_app
from siaran_publisher.channels import DELETED, DISABLED
from siaran_shared.events import Channel, ChannelConfigured, DeliveryStatus, utcnow
from siaran_shared.events.topics import CHANNELS
from siaran_shared.messaging import ce_headers
from siaran_shared.testing import service_under_test

from .conftest import Harness, ScriptedReceiver, task


def channel(endpoint: str, **fields: object) -> Channel:
    values: dict[str, object] = dict(id="bantaeng-web", region="73.03", kind="web",
                                     name="Bantaeng", endpoint=endpoint)  # fmt: skip
    return Channel.model_validate({**values, **fields})


async def first_attempt_fails(harness: Harness, receiver: ScriptedReceiver, path: str) -> str:
    url = receiver.answer(path, 503, 200)
    assert (await harness.deliverer.handle(task(url))).results == []  # a retry is scheduled
    return url


async def retry(harness: Harness) -> list[DeliveryStatus]:
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=5)) == 1
    [due] = harness.requeued
    return [o.status for o in (await harness.deliverer.handle(due)).results]


async def test_a_retry_goes_where_the_channel_points_now(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    await first_attempt_fails(harness, receiver, "/old")
    new = receiver.answer("/new", 200)
    harness.delivery.channels.apply("bantaeng-web", channel(new, rate_per_minute=600))
    assert await retry(harness) == [DeliveryStatus.DELIVERED]
    assert len(receiver.at("/old")) == 1
    assert len(receiver.at("/new")) == 1


async def test_a_retry_to_a_channel_disabled_meanwhile_is_skipped(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = await first_attempt_fails(harness, receiver, "/disabled")
    harness.delivery.channels.apply("bantaeng-web", channel(url, enabled=False))
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=5)) == 1
    [outcome] = (await harness.deliverer.handle(harness.requeued[0])).results
    assert outcome.status is DeliveryStatus.SKIPPED
    assert outcome.response == DISABLED
    assert len(receiver.at("/disabled")) == 1


async def test_a_retry_to_a_channel_deleted_meanwhile_is_skipped(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    await first_attempt_fails(harness, receiver, "/deleted")
    harness.delivery.channels.apply("bantaeng-web", None)
    assert await retry(harness) == [DeliveryStatus.SKIPPED]
    assert len(receiver.at("/deleted")) == 1


async def test_an_unknown_channel_is_sent_as_the_task_says(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    harness.delivery.channels.apply("another", None)
    url = receiver.answer("/as-planned", 200)
    [outcome] = (await harness.deliverer.handle(task(url))).results
    assert outcome.status is DeliveryStatus.DELIVERED
    assert outcome.response != DELETED


async def test_a_task_planned_after_the_last_change_read_here_is_sent_as_planned(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    """The router planned on a configuration this instance has not read yet (its registry
    reader lags): the task's endpoint is newer than the one read here, and is kept."""
    saved = utcnow() - timedelta(seconds=5)
    old, new = receiver.answer("/lagging-old", 200), receiver.answer("/lagging-new", 200)
    harness.delivery.channels.apply("bantaeng-web", channel(old), saved)
    [outcome] = (await harness.deliverer.handle(task(new, planned_at=utcnow()))).results
    assert outcome.status is DeliveryStatus.DELIVERED
    assert len(receiver.at("/lagging-new")) == 1
    assert receiver.at("/lagging-old") == []


async def test_a_task_planned_before_a_change_follows_the_change(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    planned = utcnow() - timedelta(minutes=1)
    old, new = receiver.answer("/planned-old", 200), receiver.answer("/planned-new", 200)
    harness.delivery.channels.apply("bantaeng-web", channel(new), utcnow())
    [outcome] = (await harness.deliverer.handle(task(old, planned_at=planned))).results
    assert outcome.status is DeliveryStatus.DELIVERED
    assert len(receiver.at("/planned-new")) == 1
    assert receiver.at("/planned-old") == []


async def test_a_deletion_read_after_planning_ends_the_delivery(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/deleted-later", 200)
    planned = utcnow() - timedelta(minutes=1)
    harness.delivery.channels.apply("bantaeng-web", None, utcnow())
    [outcome] = (await harness.deliverer.handle(task(url, planned_at=planned))).results
    assert outcome.status is DeliveryStatus.SKIPPED
    assert outcome.response == DELETED


async def test_the_service_follows_the_registry_topic(tmp_path: Path) -> None:
    async with service_under_test(create_app, tmp_path) as sut:
        channels = sut.app.state.delivery.channels
        planned = task("https://example.go.id/old")
        disabled = channel("https://example.go.id/old", enabled=False)
        event = ChannelConfigured(channel=disabled)
        await sut.publish(CHANNELS, event.model_dump_json().encode(), key="bantaeng-web",
                          headers=ce_headers(event, source="test"))  # fmt: skip
        assert channels.honour(planned) == (planned, DISABLED)
        await sut.publish(CHANNELS, None, key="bantaeng-web")  # a tombstone
        assert channels.honour(planned) == (planned, DELETED)
