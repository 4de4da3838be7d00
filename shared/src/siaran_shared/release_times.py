"""When a delivery may be released: now, at `publish_at`, or at a local time in the zone of
the channel's region (Indonesia keeps fixed offsets all year: WIB +7, WITA +8, WIT +9).
The router releases by these times; metrics waits for the last of them before it calls an
announcement complete."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo

from siaran_shared.events import Announcement
from siaran_shared.regions import NATIONAL, ZONE_OFFSETS, regions

LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
#: National channels speak for the ministry in Jakarta.
NATIONAL_ZONE = "WIB"


def zone_of(region: str) -> tzinfo:
    """The time zone of a region code (ID: Jakarta's)."""
    code = NATIONAL_ZONE if region == NATIONAL else regions().zone_of(region)
    return ZONE_OFFSETS[code]


def next_local_time(after: datetime, hhmm: str, zone: tzinfo) -> datetime:
    """The first instant at or after `after` when the clock in `zone` shows `hhmm`."""
    match = LOCAL_TIME.fullmatch(hhmm)
    if match is None:
        raise ValueError(f"local time must be HH:MM (00:00–23:59), got {hhmm!r}")
    local = after.astimezone(zone)
    candidate = local.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
    if candidate < local:
        candidate += timedelta(days=1)
    return candidate


def release_at(announcement: Announcement, accepted_at: datetime, region: str) -> datetime:
    """When deliveries of `announcement` to a channel in `region` are due.

    Not before `publish_at`; with `publish_local_time`, the next time that local time comes
    in the region's zone after acceptance (and after `publish_at`); otherwise at acceptance.
    """
    base = _not_before(announcement, accepted_at)
    if announcement.publish_local_time:
        return next_local_time(base, announcement.publish_local_time, zone_of(region))
    return base


def _not_before(announcement: Announcement, accepted_at: datetime) -> datetime:
    """Acceptance, or `publish_at` when it is later."""
    if announcement.publish_at is not None and announcement.publish_at > accepted_at:
        return announcement.publish_at
    return accepted_at


def last_release(
    announcement: Announcement, accepted_at: datetime, targeted: Iterable[str]
) -> datetime:
    """When the last of the announcement's deliveries to the `targeted` regions is due (in
    UTC): the latest of their zones' release times; Jakarta's when none is known."""
    base, hhmm = _not_before(announcement, accepted_at), announcement.publish_local_time
    if not hhmm:
        return base
    known = regions()
    zones = {zone_of(r) for r in targeted if r == NATIONAL or known.exists(r)}
    return max(next_local_time(base, hhmm, z) for z in zones or {zone_of(NATIONAL)}).astimezone(UTC)


def stamp(moment: datetime) -> str:
    """A fixed-width UTC timestamp whose string order is time order (store queries)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
