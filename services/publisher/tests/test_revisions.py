"""Corrections never post twice across revisions: a revision older than one already claimed
or finished is superseded, never posted; a correction replaces an earlier revision still on
the schedule (it never posts when it comes due); a replay of a revision is posted once; a
correction after the delivered revision is posted, after it, never before."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from siaran_publisher.claiming import REPLAY_HEADER, SEND_WAIT
from siaran_shared.events import DeliveryAction, DeliveryCompleted, DeliveryStatus, utcnow

from .conftest import Harness, ScriptedReceiver, task

UPDATED = "id.siaran.announcement.updated.v1"


def keys(receiver: ScriptedReceiver, path: str) -> list[str]:
    return [h.headers["Idempotency-Key"] for h in receiver.at(path)]


async def both_revisions(harness: Harness, url: str) -> list[DeliveryCompleted]:
    """Revision 1 to its end, then revision 2 to its end; their outcomes."""
    return [(await harness.run(task(url, revision=n)))[0] for n in (1, 2)]


async def test_an_older_revision_after_a_newer_one_is_superseded_never_posted(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/late", 200, 200)
    [second] = await harness.run(task(url, revision=2))
    assert (second.status, second.revision) == (DeliveryStatus.DELIVERED, 2)
    for _ in range(2):  # the late first revision, and a replay of it: neither is posted
        [first] = (await harness.deliverer.handle(task(url))).results
        assert (first.status, first.revision) == (DeliveryStatus.SUPERSEDED, 1)
        assert first.response == "superseded by revision 2 before it was posted"
    assert keys(receiver, "/late") == ["a1:bantaeng-web:r2"]


async def test_a_correction_replaces_an_earlier_revision_waiting_for_a_retry(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/retry", 503, 200, 200)
    assert (await harness.deliverer.handle(task(url))).results == []  # 503: on the schedule
    handled = await harness.deliverer.handle(task(url, revision=2))
    assert [(o.revision, o.status) for o in handled.results] == [
        (1, DeliveryStatus.SUPERSEDED),
        (2, DeliveryStatus.DELIVERED),
    ]
    assert handled.results[0].attempts == 1  # the attempt it had made
    # long past the first revision's due time: nothing of it is re-queued or posted
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=10)) == 0
    assert keys(receiver, "/retry") == ["a1:bantaeng-web", "a1:bantaeng-web:r2"]
    assert json.loads(receiver.at("/retry")[1].body)["type"] == UPDATED


async def test_a_requeued_earlier_revision_arriving_after_the_correction_is_not_posted(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/queued", 503, 200, 200)
    await harness.deliverer.handle(task(url))  # 503: on the schedule
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=1)) == 1
    [due] = harness.requeued  # its copy is on the retry topic when the correction comes
    [superseded, delivered] = (await harness.deliverer.handle(task(url, revision=2))).results
    assert (superseded.status, delivered.status) == (
        DeliveryStatus.SUPERSEDED,
        DeliveryStatus.DELIVERED,
    )
    [again] = (await harness.deliverer.handle(due)).results  # the copy comes due
    assert again == superseded  # stated again, not posted
    assert keys(receiver, "/queued") == ["a1:bantaeng-web", "a1:bantaeng-web:r2"]


async def test_a_replayed_correction_is_posted_once(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    first, second = await both_revisions(harness, receiver.answer("/replay", 200, 200, 200))
    url = receiver.base + "/replay"
    for _ in range(2):  # copies of both revisions after a crash: stated again, not posted
        for revision in (2, 1):
            [again] = (await harness.deliverer.handle(task(url, revision=revision))).results
            assert again == (second if revision == 2 else first)
    assert (first.status, second.status) == (DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED)
    assert keys(receiver, "/replay") == ["a1:bantaeng-web", "a1:bantaeng-web:r2"]


async def test_a_correction_waits_for_its_earlier_revision_being_sent(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/slow", (200, {}, 0.5), 200)
    sending = asyncio.create_task(harness.deliverer.handle(task(url)))
    for _ in range(500):  # until the first revision is being posted
        if receiver.at("/slow"):
            break
        await asyncio.sleep(0.01)
    waiting = await harness.deliverer.handle(task(url, revision=2))
    assert waiting.results == []  # on the schedule, behind the first revision
    [first] = (await sending).results
    assert first.status is DeliveryStatus.DELIVERED
    # when its wait is over, the schedule hands it back, and it is posted after the first
    assert await harness.scheduler.tick(utcnow() + SEND_WAIT + timedelta(seconds=1)) == 1
    [second] = (await harness.deliverer.handle(harness.requeued.pop())).results
    assert (second.status, second.revision) == (DeliveryStatus.DELIVERED, 2)
    assert keys(receiver, "/slow") == ["a1:bantaeng-web", "a1:bantaeng-web:r2"]


async def test_outcomes_carry_the_revision_and_the_delivery_they_replace(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/fallback", 200)
    [outcome] = await harness.run(task(url, revision=3, fallback_of="a1:bantaeng-x"))
    assert (outcome.revision, outcome.fallback_of) == (3, "a1:bantaeng-x")
    stored = await harness.delivery.claims.get("a1:bantaeng-web:r3")
    assert stored is not None
    assert stored.outcome == outcome


async def test_a_cancel_after_a_correction_stops_the_pending_revision_and_retracts_the_post(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/cancel", 200, 503, 200)
    await harness.run(task(url))  # revision 1 posted
    assert (await harness.deliverer.handle(task(url, revision=2))).results == []  # 503: waits
    # a retraction that names only the first revision still finds the second
    retract = task(url, action=DeliveryAction.RETRACT)
    outcomes = (await harness.deliverer.handle(retract)).results
    assert [(o.revision, o.status) for o in outcomes] == [
        (2, DeliveryStatus.CANCELLED),
        (1, DeliveryStatus.RETRACTED),
    ]
    assert await harness.scheduler.tick(utcnow() + timedelta(minutes=10)) == 0
    assert keys(receiver, "/cancel") == [
        "a1:bantaeng-web",
        "a1:bantaeng-web:r2",
        "a1:bantaeng-web:retract",
    ]


async def test_a_replayed_dead_letter_of_a_corrected_revision_is_not_posted(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    failed, second = await both_revisions(harness, receiver.answer("/dlq", 400, 200, 200))
    url = receiver.base + "/dlq"
    assert (failed.status, second.status) == (DeliveryStatus.FAILED, DeliveryStatus.DELIVERED)
    [again] = await harness.run(task(url), **{REPLAY_HEADER: utcnow().isoformat()})
    assert again == failed  # stated again, not reopened after its correction
    assert keys(receiver, "/dlq") == ["a1:bantaeng-web", "a1:bantaeng-web:r2"]
