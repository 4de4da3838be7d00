"""Completion on the in-memory broker: one AnnouncementCompleted per revision, durable
across replays and restarts; cancelled and expired announcements complete too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from siaran_metrics.app import create_app
from siaran_metrics.completion import Completer
from siaran_metrics.completions import CompletionRecord, Completions
from siaran_metrics.config import MetricsSettings
from siaran_metrics.records import AnnouncementRecord
from siaran_shared.events import (
    Announcement,
    AnnouncementCancelled,
    AnnouncementCompleted,
    AnnouncementUpdated,
    CompletionStatus,
    DeliveryStatus,
    Event,
    Fallback,
    Target,
    utcnow,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, PLANS, RESULTS
from siaran_shared.messaging import ce_headers
from siaran_shared.regions import ZONE_OFFSETS, target_regions
from siaran_shared.release_times import last_release
from siaran_shared.settings import Settings
from siaran_shared.testing import ServiceUnderTest, service_under_test


def cancel() -> AnnouncementCancelled:
    """A cancellation made now (its `cancelled_at` starts the grace, so never a module
    constant: the suite may run this test minutes after importing the module)."""
    return AnnouncementCancelled(announcement_id="a1", cancelled_by="editor")


Running = Callable[[], AbstractAsyncContextManager[ServiceUnderTest]]


def app_with(**values: float) -> Callable[[Settings], FastAPI]:
    def make(s: Settings) -> FastAPI:
        return create_app(MetricsSettings(**s.model_dump(exclude_unset=True), **values))

    return make


@pytest.fixture
def running(tmp_path: Path) -> Running:
    """The service, started anew on the same store each time (a restart)."""
    return lambda: service_under_test(
        app_with(completion_grace_seconds=60, completion_fallback_wait_seconds=30),
        tmp_path,
        observe=(ANNOUNCEMENTS,),
    )


@pytest.fixture
async def metrics(running: Running) -> AsyncIterator[ServiceUnderTest]:
    async with running() as sut:
        yield sut


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


def completions(sut: ServiceUnderTest) -> list[tuple[str | None, str, AnnouncementCompleted]]:
    """(key, ce_id, event) of each AnnouncementCompleted produced."""
    found = []
    for raw in sut.seen[ANNOUNCEMENTS]:
        headers = {k: v.decode() for k, v in raw.headers}
        if headers.get("ce_type") == AnnouncementCompleted.event_type:
            event = AnnouncementCompleted.model_validate_json(raw.value)
            found.append((raw.key.decode() if raw.key else None, headers["ce_id"], event))
    return found


def correction(make: SimpleNamespace) -> AnnouncementUpdated:
    """Revision 2 of a1."""
    accepted = make.accepted()
    return AnnouncementUpdated(
        announcement=accepted.announcement, revision=2, accepted_at=accepted.accepted_at,
        updated_by="editor", submitted_by="writer",
    )  # fmt: skip


async def two_deliveries(sut: ServiceUnderTest, make: SimpleNamespace) -> None:
    await send(sut, ANNOUNCEMENTS, make.accepted(), "a1")
    for channel_id in ("bantaeng-web", "bantaeng-x"):
        await send(sut, PLANS, make.plan(make.planned(channel_id)), "a1")


async def test_completes_once_when_every_delivery_is_final_even_after_replays_and_a_restart(
    running: Running, make: SimpleNamespace
) -> None:
    async with running() as sut:
        await two_deliveries(sut, make)
        await send(sut, RESULTS, make.outcome("bantaeng-web"), "a1")
        assert completions(sut) == []
        failed = make.outcome("bantaeng-x", DeliveryStatus.FAILED)
        await send(sut, RESULTS, failed, "a1")
        [(key, ce_id, event)] = completions(sut)
        assert (key, ce_id) == ("a1", "a1:r1:completed")
        assert (event.revision, event.status) == (1, CompletionStatus.COMPLETED)
        report = event.report
        assert (report["planned"], report["delivered"], report["failed"]) == (2, 1, 1)
        await send(sut, RESULTS, failed, "a1")  # a replay
        await send(sut, ANNOUNCEMENTS, make.accepted(), "a1")
        assert len(completions(sut)) == 1
    async with running() as sut:  # a restart replaying everything
        await two_deliveries(sut, make)
        await send(sut, RESULTS, failed, "a1")
        assert sut.app.state.handlers.completer is not None
        assert await sut.app.state.handlers.completer.publish() == 0
        assert completions(sut) == []


async def test_a_correction_completes_again_once_its_own_outcomes_are_final(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await send(metrics, ANNOUNCEMENTS, make.accepted(), "a1")
    await send(metrics, PLANS, make.plan(make.planned("bantaeng-web")), "a1")
    await send(metrics, RESULTS, make.outcome("bantaeng-web"), "a1")
    await send(metrics, ANNOUNCEMENTS, correction(make), "a1")
    assert [e.revision for _, _, e in completions(metrics)] == [1]  # no revision-2 plan yet
    task = make.planned("bantaeng-web").model_copy(update={"revision": 2})
    await send(metrics, PLANS, make.plan(task), task.announcement_id)
    superseded = make.outcome("bantaeng-web", DeliveryStatus.SUPERSEDED)
    await send(metrics, RESULTS, superseded, "a1")
    assert len(completions(metrics)) == 1
    outcome = make.outcome("bantaeng-web").model_copy(update={"revision": 2})
    await send(metrics, RESULTS, outcome, "a1")
    [_, (_, ce_id, second)] = completions(metrics)
    assert (ce_id, second.revision, second.report["delivered"]) == ("a1:r2:completed", 2, 1)


async def test_a_cancelled_announcement_completes_once_its_pending_deliveries_are_final(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await two_deliveries(metrics, make)
    await send(metrics, RESULTS, make.outcome("bantaeng-web"), "a1")
    await send(metrics, ANNOUNCEMENTS, cancel(), "a1")
    assert completions(metrics) == []
    await send(metrics, RESULTS, make.outcome("bantaeng-x", DeliveryStatus.CANCELLED), "a1")
    [(_, _, event)] = completions(metrics)
    assert event.status is CompletionStatus.CANCELLED
    assert (event.report["delivered"], event.report["cancelled"]) == (1, 1)


async def test_cancelled_or_expired_with_deliveries_pending_completes_after_the_grace(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await two_deliveries(metrics, make)
    expiring = make.accepted("e1")
    expiring = expiring.model_copy(
        update={"announcement": expiring.announcement.model_copy(
            update={"expires_at": utcnow() - timedelta(seconds=1)})}
    )  # fmt: skip
    await send(metrics, ANNOUNCEMENTS, expiring, "e1")
    await send(metrics, PLANS, make.plan(make.planned("makassar-web", "e1")), "e1")
    await send(metrics, ANNOUNCEMENTS, cancel(), "a1")
    completer = metrics.app.state.handlers.completer
    assert await completer.sweep() == 0  # within the grace: outcomes may still come
    assert await completer.sweep(utcnow() + timedelta(seconds=61)) == 2
    statuses = {
        e.announcement_id: (e.status, e.report["pending"]) for _, _, e in completions(metrics)
    }
    assert statuses == {"a1": (CompletionStatus.CANCELLED, 2), "e1": (CompletionStatus.EXPIRED, 1)}
    assert await completer.sweep(utcnow() + timedelta(days=1)) == 0


@pytest.mark.parametrize(
    ("target", "released"),
    [
        (Target(provinces=("73",)), "2026-01-15T01:00:00+00:00"),  # 09:00 WITA
        (Target(national=True), "2026-01-16T00:00:00+00:00"),  # 09:00 WIT, the next day
        (Target(provinces=("31",), regencies=("73.03",)), "2026-01-15T02:00:00+00:00"),
    ],
)
def test_the_last_release_is_the_latest_local_time_among_the_targeted_zones(
    target: Target, released: str
) -> None:
    at = datetime(2026, 1, 15, 0, 30, tzinfo=UTC)  # 07:30 WIB, 08:30 WITA, 09:30 WIT
    a = Announcement(id="t", title="T", body="B", target=target, publish_local_time="09:00")
    assert last_release(a, at, target_regions(target)).isoformat() == released
    assert last_release(a.model_copy(update={"publish_local_time": None}), at, ()) == at


async def test_not_complete_before_the_last_release_then_by_the_sweep(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    """Plans reach metrics as the router releases them: the first zone's deliveries all
    final is no completion while another zone's release is still to come."""
    accepted = make.accepted("z1")
    wita_now = utcnow().astimezone(ZONE_OFFSETS["WITA"])
    soon = (wita_now + timedelta(minutes=1)).strftime("%H:%M")
    target = Target(provinces=("73", "31"))  # WITA, and WIB an hour later
    announcement = accepted.announcement.model_copy(
        update={"target": target, "publish_local_time": soon}
    )
    await send(metrics, ANNOUNCEMENTS, accepted.model_copy(update={"announcement": announcement}),
               "z1")  # fmt: skip
    await send(metrics, PLANS, make.plan(make.planned("bantaeng-web", "z1")), "z1")
    await send(metrics, RESULTS, make.outcome("bantaeng-web", announcement_id="z1"), "z1")
    completer = metrics.app.state.handlers.completer
    assert await completer.sweep(utcnow() + timedelta(minutes=30)) == 0
    assert completions(metrics) == []
    assert await completer.sweep(utcnow() + timedelta(hours=1, minutes=62)) == 1
    [(_, _, event)] = completions(metrics)
    assert (event.status, event.report["delivered"]) == (CompletionStatus.COMPLETED, 1)


async def test_a_replaced_delivery_whose_correction_never_came_waits_only_the_grace(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    """A correction skips a channel removed since: its held revision 1 ends superseded, no
    revision 2 follows; the announcement still completes, a grace after the correction."""
    await two_deliveries(metrics, make)
    await send(metrics, RESULTS, make.outcome("bantaeng-web"), "a1")
    await send(metrics, ANNOUNCEMENTS, correction(make), "a1")
    web = make.planned("bantaeng-web").model_copy(update={"revision": 2})
    await send(metrics, PLANS, make.plan(web), web.announcement_id)
    await send(metrics, RESULTS, make.outcome("bantaeng-x", DeliveryStatus.SUPERSEDED), "a1")
    await send(metrics, RESULTS, make.outcome("bantaeng-web").model_copy(update={"revision": 2}),
               "a1")  # fmt: skip
    assert completions(metrics) == []
    completer = metrics.app.state.handlers.completer
    assert await completer.sweep(utcnow() + timedelta(seconds=61)) == 1
    [(_, _, event)] = completions(metrics)
    assert (event.revision, event.status) == (2, CompletionStatus.COMPLETED)
    assert (event.report["delivered"], event.report["pending"]) == (1, 1)


async def fails_with_fallback_to(sut: ServiceUnderTest, make: SimpleNamespace, kind: str) -> None:
    """a1 with fallback kinds (kind,); its bantaeng-x delivery fails permanently."""
    accepted = make.accepted()
    with_fallback = accepted.announcement.model_copy(update={"fallback": Fallback(kinds=(kind,))})
    await send(sut, ANNOUNCEMENTS, accepted.model_copy(update={"announcement": with_fallback}),
               "a1")  # fmt: skip
    await send(sut, PLANS, make.plan(make.planned("bantaeng-x")), "a1")
    await send(sut, RESULTS, make.outcome("bantaeng-x", DeliveryStatus.FAILED), "a1")


async def test_a_permanent_failure_waits_for_its_fallback_before_completing(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await fails_with_fallback_to(metrics, make, "web")
    assert completions(metrics) == []  # the router may be planning the fallback now
    fallback = {"fallback_of": "a1:bantaeng-x"}
    planned = make.planned("bantaeng-web").model_copy(update=fallback)
    await send(metrics, PLANS, make.plan(planned), "a1")
    await send(metrics, RESULTS, make.outcome("bantaeng-web").model_copy(update=fallback), "a1")
    [(_, _, event)] = completions(metrics)
    assert event.report["fallbacks"] == {"planned": 1, "delivered": 1}
    assert (event.report["failed"], event.report["delivered"]) == (1, 1)


async def test_a_permanent_failure_with_no_fallback_to_plan_completes_after_the_wait(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await fails_with_fallback_to(metrics, make, "sms")
    completer = metrics.app.state.handlers.completer
    failed_at = make.ACCEPTED_AT + timedelta(seconds=2)  # the outcome's completed_at
    assert await completer.sweep(failed_at + timedelta(seconds=29)) == 0
    assert await completer.sweep(failed_at + timedelta(seconds=31)) == 1
    [(_, _, event)] = completions(metrics)
    assert (event.status, event.report["failed"]) == (CompletionStatus.COMPLETED, 1)


async def test_a_completion_the_broker_refused_is_published_later_once(
    tmp_path: Path, make: SimpleNamespace
) -> None:
    """Created in the store first: a publish that fails leaves it for the next round, and
    neither the failure nor a second check creates or publishes another."""
    published: list[str] = []
    broker_down = True

    async def announce(records: Sequence[CompletionRecord]) -> None:
        if broker_down:
            raise ConnectionError("broker unreachable")
        published.extend(r.id for r in records)

    on_disk = make.ledger_on_disk(tmp_path)
    async with on_disk as ledger:
        completer = Completer(
            ledger, Completions(on_disk.store.collection("completions")), announce,
            timedelta(seconds=60),
        )  # fmt: skip
        await ledger.record_announcements([make.accepted()])
        await ledger.record_planned([make.planned("bantaeng-web")])
        await ledger.record_outcomes([make.outcome("bantaeng-web")])
        assert await completer.check(["a1"]) == 1  # created; its publish failed, logged
        assert await completer.check(["a1"]) == 0
        broker_down = False
        assert await completer.publish() == 1
        assert await completer.publish() == 0
    assert published == ["a1:r1:completed"]


async def test_no_channel_matched_completes_a_grace_after_its_release_swept_once_a_minute(
    tmp_path: Path, make: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Released, no channel matched: it completes `grace` after its release (it waited for
    ever before). The sweeps in between read it once a minute, not every round; an event
    (a batch's check) still reads it at once."""
    grace = timedelta(seconds=300)
    published: list[CompletionRecord] = []

    async def announce(records: Sequence[CompletionRecord]) -> None:
        published.extend(records)

    on_disk = make.ledger_on_disk(tmp_path)
    async with on_disk as ledger:
        completer = Completer(ledger, Completions(on_disk.store.collection("completions")),
                              announce, grace)  # fmt: skip
        await ledger.record_announcements([make.accepted()])
        record = await ledger.announcements.get("a1")
        assert record is not None
        released = record.release_by or record.accepted_at
        assert released is not None
        read: list[str] = []
        get_many = ledger.announcements.get_many

        async def reading(ids: Sequence[str]) -> dict[str, AnnouncementRecord]:
            read.extend(ids)
            return await get_many(ids)

        monkeypatch.setattr(ledger.announcements, "get_many", reading)
        rounds = [released + timedelta(seconds=s) for s in range(1, 200, 2)]
        assert [await completer.sweep(now) for now in rounds] == [0] * len(rounds)
        assert read.count("a1") == 4  # the first round, then once a minute at most
        assert await completer.check(["a1"], rounds[-1]) == 0  # an event: looked at
        assert read.count("a1") == 5
        assert await completer.sweep(released + grace - timedelta(seconds=1)) == 0
        assert await completer.sweep(released + grace) == 1  # the grace ended: on time
    [completion] = published
    event = AnnouncementCompleted.model_validate_json(completion.event)
    assert event.status is CompletionStatus.COMPLETED
    assert (event.report["planned"], event.report["pending"]) == (0, 0)
