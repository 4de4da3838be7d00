"""Fallback kinds over a real SQLite store: a permanent failure sends the announcement to
the region's channels of the fallback kinds, once per (announcement, region)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    Channel,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Fallback,
    Target,
)

if TYPE_CHECKING:  # conftest is not importable under --import-mode=importlib
    from conftest import Router, Wire

HOOK = "https://example.go.id/hook"
CHANNELS = [
    Channel(id=cid, region=region, kind=kind, name=cid, endpoint=HOOK, enabled=enabled)
    for cid, region, kind, enabled in [
        ("web1", "73.03", "web", True),
        ("x1", "73.03", "x", True),
        ("web2", "73.04", "web", True),
        ("sms1", "73.03", "sms", True),
        ("sms-off", "73.03", "sms", False),
        ("sms2", "73.04", "sms", True),
        ("wa1", "73.03", "whatsapp", True),
    ]
]


def accepted(fallback: tuple[str, ...] | None = ("sms",), **fields: Any) -> AnnouncementAccepted:
    announcement = Announcement(
        id="a1", title="Judul", body="Isi", target=Target(provinces=("73",), kinds=("web", "x")),
        fallback=Fallback(kinds=fallback) if fallback else None, **fields,
    )  # fmt: skip
    return AnnouncementAccepted(announcement=announcement, submitted_by="writer")


async def started(wire: Wire, event: AnnouncementAccepted | None = None) -> Router:
    r = await wire(CHANNELS)
    await r.fanout.on_accepted(event or accepted())
    await r.releaser.release_due()
    return r


def task(r: Router, delivery_id: str) -> DeliveryPlanned:
    return next(t for t in r.sink.tasks if t.delivery_id == delivery_id)


def failed(
    planned: DeliveryPlanned, status: DeliveryStatus = DeliveryStatus.FAILED
) -> DeliveryCompleted:
    return DeliveryCompleted.of(planned, status, attempts=1, response="HTTP 400")


def fallbacks_sent(r: Router) -> list[tuple[str, str | None]]:
    return [(t.channel_id, t.fallback_of) for t in r.sink.tasks if t.fallback_of]


async def test_a_permanent_failure_falls_back_to_the_regions_channels_once(wire: Wire) -> None:
    r = await started(wire)
    assert await r.fallbacks.on_results([failed(task(r, "a1:web1"))]) == 1
    assert await r.releaser.release_due() == 1
    assert fallbacks_sent(r) == [("sms1", "a1:web1")]  # not the disabled one, not 73.04's
    # another failure in the region, and the same failure read again: nothing more
    more = [failed(task(r, "a1:x1")), failed(task(r, "a1:web1"))]
    assert await r.fallbacks.on_results(more) == 0
    # another region falls back on its own
    assert await r.fallbacks.on_results([failed(task(r, "a1:web2"))]) == 1
    await r.releaser.release_due()
    assert fallbacks_sent(r) == [("sms1", "a1:web1"), ("sms2", "a1:web2")]


async def test_a_fallback_interrupted_before_it_is_recorded_is_not_sent_twice(
    wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = await started(wire)
    failure = failed(task(r, "a1:web1"))

    async def crash(*_: object) -> None:
        raise ConnectionError("store unreachable")

    with monkeypatch.context() as m:
        m.setattr(r.plans, "fell_back", crash)
        with pytest.raises(ConnectionError):
            await r.fallbacks.on_results([failure])
    await r.fallbacks.on_results([failure])  # the batch is consumed again
    await r.releaser.release_due()
    assert fallbacks_sent(r) == [("sms1", "a1:web1")]


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param(lambda t: failed(t, DeliveryStatus.DELIVERED), id="delivered"),
        pytest.param(lambda t: failed(t, DeliveryStatus.SKIPPED), id="skipped"),
        pytest.param(
            lambda t: failed(t.model_copy(update={"action": DeliveryAction.RETRACT})),
            id="failed-retraction",
        ),
        pytest.param(
            lambda t: failed(t.model_copy(update={"fallback_of": "a1:x1"})), id="failed-fallback"
        ),
    ],
)
async def test_only_a_failed_first_hand_publication_falls_back(wire: Wire, outcome: Any) -> None:
    r = await started(wire)
    assert await r.fallbacks.on_results([outcome(task(r, "a1:web1"))]) == 0


async def test_no_fallback_without_the_setting(wire: Wire) -> None:
    r = await started(wire, accepted(fallback=None))
    assert await r.fallbacks.on_results([failed(task(r, "a1:web1"))]) == 0


async def test_no_fallback_after_the_expiry(wire: Wire) -> None:
    r = await started(wire, accepted(expires_at=datetime(2100, 1, 1, tzinfo=UTC)))
    r.clock.now = datetime(2100, 1, 1, tzinfo=UTC) + timedelta(seconds=1)
    assert await r.fallbacks.on_results([failed(task(r, "a1:web1"))]) == 0


async def test_no_fallback_after_a_cancellation(wire: Wire) -> None:
    r = await started(wire)
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    assert await r.fallbacks.on_results([failed(task(r, "a1:web1"))]) == 0


async def test_channels_the_announcement_planned_already_are_not_used_again(wire: Wire) -> None:
    r = await started(wire, accepted(fallback=("web", "whatsapp")))
    assert await r.fallbacks.on_results([failed(task(r, "a1:x1"))]) == 1  # web1 had it
    await r.releaser.release_due()
    assert fallbacks_sent(r) == [("wa1", "a1:x1")]


async def test_a_cancellation_stops_and_a_correction_follows_the_fallback(wire: Wire) -> None:
    r = await started(wire)
    await r.fallbacks.on_results([failed(task(r, "a1:web1"))])
    first = accepted()
    fix = AnnouncementUpdated(
        announcement=first.announcement.model_copy(update={"body": "Isi yang benar"}),
        revision=2, accepted_at=first.accepted_at, updated_by="editor", submitted_by="writer",
    )  # fmt: skip
    await r.fanout.on_updated(fix)  # the fallback was held, not released: replaced
    await r.releaser.release_due()
    assert fallbacks_sent(r) == [("sms1", "a1:web1")]
    assert task(r, "a1:sms1").revision == 2
    await r.fanout.on_cancelled(AnnouncementCancelled(announcement_id="a1", cancelled_by="t"))
    retracted = {t.channel_id for t in r.sink.tasks if t.action is DeliveryAction.RETRACT}
    assert retracted == {"web1", "x1", "web2", "sms1"}
