"""Plan summaries: what metrics counts as planned, one event per released chunk of an
announcement revision's tasks instead of the tasks themselves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from siaran_shared.events import (
    EVENT_TYPES,
    DeliveriesPlanned,
    DeliveryAction,
    DeliveryPlanned,
    PlannedEntry,
)
from siaran_shared.events.deliveries import PLAN_SUMMARY_MAX

ACCEPTED = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def task(channel_id: str, announcement_id: str = "a1", **changes: object) -> DeliveryPlanned:
    fields = {
        "delivery_id": f"{announcement_id}:{channel_id}", "announcement_id": announcement_id,
        "channel_id": channel_id, "region": "73.03", "province": "73", "kind": "web",
        "endpoint": "https://bantaeng.go.id/hook", "secret": "s3cret", "title": "Judul",
        "text": "Isi yang panjang " * 100, "accepted_at": ACCEPTED,
    }  # fmt: skip
    return DeliveryPlanned.model_validate(fields | changes)


def test_one_summary_per_announcement_revision_listing_its_publish_tasks() -> None:
    tasks = [
        task("bantaeng-web"),
        task("bantaeng-x", kind="x"),
        task("bantaeng-web", "a2"),
        task("bantaeng-sms", revision=2, fallback_of="a1:bantaeng-x"),
        task("gowa-web", action=DeliveryAction.RETRACT),  # retracts: plans nothing
    ]
    summaries = DeliveriesPlanned.of(tasks)
    assert [(s.announcement_id, s.revision, len(s.deliveries)) for s in summaries] == [
        ("a1", 1, 2), ("a2", 1, 1), ("a1", 2, 1),
    ]  # fmt: skip
    assert [e for s in summaries for e in s.entries()] == [PlannedEntry.of(t) for t in tasks[:4]]


def test_a_summary_carries_no_text_endpoint_or_secret_and_reads_back_the_same() -> None:
    (summary,) = DeliveriesPlanned.of([task(f"c{i}") for i in range(500)])
    body = summary.model_dump_json()
    for private in ("s3cret", "hook", "Isi"):  # secret, endpoint, text
        assert private not in body
    assert len(body) < 100 * 500  # a release chunk's summary: tens of kB, not its tasks' MB
    again = EVENT_TYPES[DeliveriesPlanned.event_type].model_validate_json(body)
    assert again == summary


def test_a_huge_chunk_is_split_under_the_message_size_limit() -> None:
    tasks = [task(f"c{i}") for i in range(PLAN_SUMMARY_MAX + 1)]
    summaries = DeliveriesPlanned.of(tasks)
    assert [len(s.deliveries) for s in summaries] == [PLAN_SUMMARY_MAX, 1]
    assert max(len(s.model_dump_json()) for s in summaries) < 1_000_000


def test_an_empty_or_oversized_summary_is_refused_naming_the_field() -> None:
    for deliveries in ([], [{"channel_id": "c", "region": "73", "province": "73",
                             "kind": "web"}] * (PLAN_SUMMARY_MAX + 1)):  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            DeliveriesPlanned.model_validate({"announcement_id": "a1", "deliveries": deliveries})
        assert refused.value.errors()[0]["loc"] == ("deliveries",)
    assert DeliveriesPlanned.of([task("c", action=DeliveryAction.RETRACT)]) == []
