"""Release times: publish_at, and publish_local_time in each region's own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from siaran_shared.events import Announcement, Target
from siaran_shared.release_times import (
    last_release,
    next_local_time,
    release_at,
    stamp,
    zone_of,
)

T0 = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 07:30 WIB, 08:30 WITA, 09:30 WIT


def announcement(**fields: object) -> Announcement:
    return Announcement(id="a", title="t", body="b", target=Target(national=True), **fields)  # type: ignore[arg-type]


def test_without_schedule_deliveries_are_due_at_acceptance() -> None:
    assert release_at(announcement(), T0, "73.03") == T0


def test_publish_at_in_the_future_holds_until_then() -> None:
    later = T0 + timedelta(hours=3)
    assert release_at(announcement(publish_at=later), T0, "31.71") == later


def test_publish_at_in_the_past_is_due_at_acceptance() -> None:
    assert release_at(announcement(publish_at=T0 - timedelta(hours=1)), T0, "31.71") == T0


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("31.71", datetime(2026, 3, 1, 2, 0, tzinfo=UTC)),  # Jakarta WIB: 09:00 today
        ("73.03", datetime(2026, 3, 1, 1, 0, tzinfo=UTC)),  # Bantaeng WITA: 09:00 today
        ("91.71", datetime(2026, 3, 2, 0, 0, tzinfo=UTC)),  # Jayapura WIT: 09:30 now, tomorrow
        ("ID", datetime(2026, 3, 1, 2, 0, tzinfo=UTC)),  # the ministry: Jakarta time
    ],
)
def test_local_time_is_the_next_0900_in_the_regions_own_zone(
    region: str, expected: datetime
) -> None:
    assert release_at(announcement(publish_local_time="09:00"), T0, region) == expected


def test_local_time_counts_from_publish_at_when_that_is_later() -> None:
    a = announcement(publish_local_time="09:00", publish_at=T0 + timedelta(days=2))
    assert release_at(a, T0, "31.71") == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def test_invalid_local_time_is_refused() -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        next_local_time(T0, "25:00", zone_of("31.71"))


@given(
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    region=st.sampled_from(["31.71", "73.03", "91.71", "ID"]),
)
def test_next_local_time_is_the_first_matching_instant(
    after: datetime, hour: int, minute: int, region: str
) -> None:
    zone = zone_of(region)
    due = next_local_time(after, f"{hour:02d}:{minute:02d}", zone)
    assert after <= due < after + timedelta(days=1)
    local = due.astimezone(zone)
    assert (local.hour, local.minute, local.second, local.microsecond) == (hour, minute, 0, 0)


@given(
    a=st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),
    b=st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),
)
def test_stamps_sort_like_the_instants(a: datetime, b: datetime) -> None:
    assert (stamp(a) < stamp(b)) == (a < b)


@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    targeted=st.sets(st.sampled_from(["31.71", "73", "73.03", "91.71", "ID", "99.99"])),
)
def test_the_last_release_is_the_latest_of_the_routers_release_times(
    hour: int, minute: int, targeted: set[str]
) -> None:
    """What metrics waits for is what the router does, region by region (unknown codes
    aside; Jakarta's time when no region is known)."""
    a = announcement(publish_local_time=f"{hour:02d}:{minute:02d}")
    known = [r for r in targeted if r != "99.99"] or ["ID"]
    assert last_release(a, T0, targeted) == max(release_at(a, T0, r) for r in known)
    assert last_release(announcement(), T0, targeted) == T0
