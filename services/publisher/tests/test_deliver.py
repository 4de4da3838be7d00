"""The delivery logic against real local HTTP servers and a real SQLite store."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from siaran_publisher.claiming import REPLAY_HEADER
from siaran_shared.events import (
    ChannelHealth,
    DeliveryAction,
    DeliveryStatus,
    utcnow,
)

from .conftest import SECRET, Harness, ScriptedReceiver, task


async def test_signature_verifies_with_the_secret(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/signed", 200)
    [outcome] = await harness.run(task(url, secret="HOOK"))
    assert outcome.status is DeliveryStatus.DELIVERED
    [hit] = receiver.at("/signed")
    expected = "sha256=" + hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["X-Siaran-Signature"] == expected
    assert hit.headers["Idempotency-Key"] == "a1:bantaeng-web"
    assert json.loads(hit.body)["type"] == "id.siaran.announcement.published.v1"


async def test_503_503_200_is_delivered_once_after_three_attempts(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/flaky", 503, 503, 200)
    [outcome] = await harness.run(task(url))
    assert outcome.status is DeliveryStatus.DELIVERED
    assert outcome.attempts == 3
    assert outcome.latency_seconds is not None
    assert outcome.response is not None
    assert outcome.response.startswith("HTTP 200")
    assert len(receiver.at("/flaky")) == 3
    again = await harness.deliverer.handle(task(url))
    assert [r.status for r in again.results] == [DeliveryStatus.DELIVERED]  # re-stated, not sent
    assert len(receiver.at("/flaky")) == 3


async def test_400_fails_at_once_and_is_dead_lettered(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/bad", 400)
    [outcome] = await harness.run(task(url))
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.attempts == 1
    assert outcome.response is not None
    assert "HTTP 400" in outcome.response
    assert harness.last_dead_letter is not None
    assert "HTTP 400" in harness.last_dead_letter
    assert len(receiver.at("/bad")) == 1


async def test_retries_stop_at_the_maximum_attempts(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/down", *([500] * 10))
    [outcome] = await harness.run(task(url))
    assert outcome.status is DeliveryStatus.FAILED
    assert outcome.attempts == 4
    assert outcome.response is not None
    assert outcome.response.startswith("gave up after 4")
    assert len(receiver.at("/down")) == 4


async def test_retry_after_is_honoured(harness: Harness, receiver: ScriptedReceiver) -> None:
    url = receiver.answer("/busy", (429, {"Retry-After": "1"}, 0.0), 200)
    handled = await harness.deliverer.handle(task(url))
    assert handled.results == []
    assert await harness.scheduler.tick(utcnow()) == 0  # not due yet
    assert await harness.scheduler.tick(utcnow() + timedelta(seconds=1.01)) == 1


async def test_401_marks_the_channel_needs_reconnect(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/expired", 401)
    [outcome] = await harness.run(task(url))
    assert outcome.status is DeliveryStatus.FAILED
    assert "needs reconnect" in (outcome.response or "")
    changes = harness.delivery.breakers.drain_changes()
    assert [c.state for c in changes] == [ChannelHealth.NEEDS_RECONNECT]
    later = await harness.deliverer.handle(task(url, delivery_id="a2:bantaeng-web"))
    assert later.results == []  # held until the circuit's probe, not posted
    assert len(receiver.at("/expired")) == 1


async def test_expired_task_is_not_posted(harness: Harness, receiver: ScriptedReceiver) -> None:
    url = receiver.answer("/late", 200)
    [outcome] = await harness.run(task(url, expires_at=utcnow() - timedelta(seconds=1)))
    assert outcome.status is DeliveryStatus.EXPIRED
    assert receiver.at("/late") == []


async def test_retraction_cancels_what_was_not_posted_and_retracts_what_was(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/r", 200, 200)
    pending = task(url, channel="pending", not_before=utcnow() + timedelta(hours=1))
    assert (await harness.deliverer.handle(pending)).results == []  # scheduled
    retract = pending.model_copy(update={"action": DeliveryAction.RETRACT})
    [cancelled] = await harness.run(retract)
    assert cancelled.status is DeliveryStatus.CANCELLED
    posted = task(url, channel="posted")
    await harness.run(posted)
    [retracted] = await harness.run(posted.model_copy(update={"action": DeliveryAction.RETRACT}))
    assert retracted.status is DeliveryStatus.RETRACTED
    kinds = [json.loads(h.body)["type"].rsplit(".", 2)[1] for h in receiver.at("/r")]
    assert kinds == ["published", "retracted"]


async def test_replay_reopens_a_failed_delivery(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/fixed", 400, 200)
    [failed] = await harness.run(task(url))
    assert failed.status is DeliveryStatus.FAILED
    [skipped] = await harness.run(task(url))  # a plain copy only restates the outcome
    assert skipped.status is DeliveryStatus.FAILED
    [delivered] = await harness.run(task(url), **{REPLAY_HEADER: utcnow().isoformat()})
    assert delivered.status is DeliveryStatus.DELIVERED
    assert len(receiver.at("/fixed")) == 2


async def test_apprise_channel_is_delivered_and_mapped(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    receiver.answer("/apprise-bad", 400)
    base = f"json://127.0.0.1:{receiver.port}"
    [ok] = await harness.run(task(f"{base}/apprise", channel="tg", kind="telegram"))
    assert ok.status is DeliveryStatus.DELIVERED
    assert json.loads(receiver.at("/apprise")[0].body)["message"] == "Isi pengumuman"
    [bad] = await harness.run(task(f"{base}/apprise-bad", channel="tg2", kind="telegram"))
    assert bad.status is DeliveryStatus.FAILED
    assert bad.attempts == 1


async def test_secrets_never_reach_the_outcome(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    url = receiver.answer("/x", 500)
    port = receiver.port + 1 if receiver.port < 65535 else 1
    endpoint = f"json://127.0.0.1:{port}/{{secret:HOOK}}"
    [outcome] = await harness.run(task(endpoint, channel="leaky", kind="telegram"))
    assert SECRET not in (outcome.response or "")
    assert url  # the webhook path exists only to keep the receiver's port
