"""A correction's webhook: revision N >= 2 is `announcement.updated.v1` keyed
`<delivery id>:r<N>`; revision 1 keeps `published` and the bare delivery id; both say which
revision they carry in `data.revision`; a retraction keeps its own type and key."""

from __future__ import annotations

import json

from siaran_publisher.webhook import PUBLISHED, RETRACTED, UPDATED, cloudevent_body, event_id
from siaran_shared.events import DeliveryAction

from .conftest import Harness, ScriptedReceiver, task


def test_revision_one_is_published_under_the_delivery_id() -> None:
    first = task("https://x.test")
    body = json.loads(cloudevent_body(first))
    assert (body["type"], body["id"], body["data"]["revision"]) == (PUBLISHED, "a1:bantaeng-web", 1)
    assert event_id(first) == "a1:bantaeng-web"


def test_a_correction_is_updated_under_the_revision_key() -> None:
    third = task("https://x.test", revision=3)
    body = json.loads(cloudevent_body(third))
    assert UPDATED == "id.siaran.announcement.updated.v1"
    assert (body["type"], body["data"]["revision"]) == (UPDATED, 3)
    assert body["id"] == event_id(third) == "a1:bantaeng-web:r3"


def test_a_retraction_keeps_its_type_and_key_whatever_the_revision() -> None:
    retract = task("https://x.test", revision=2, action=DeliveryAction.RETRACT)
    body = json.loads(cloudevent_body(retract))
    assert (body["type"], body["id"]) == (RETRACTED, "a1:bantaeng-web:retract")


async def test_the_correction_is_sent_with_its_idempotency_key(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    [outcome] = await harness.run(task(receiver.answer("/w", 200), revision=2))
    [hit] = receiver.at("/w")
    assert hit.headers["Idempotency-Key"] == "a1:bantaeng-web:r2"
    assert json.loads(hit.body)["type"] == UPDATED
    assert (outcome.status.value, outcome.revision) == ("delivered", 2)
