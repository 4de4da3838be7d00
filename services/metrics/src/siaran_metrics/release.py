"""When the router releases an announcement's last deliveries: at acceptance, at
`publish_at`, or with `publish_local_time` at that local time in the zone of each region it
targets (WIB +7, WITA +8, WIT +9; national channels speak from Jakarta). Plans reach
metrics only as they are released, so no revision counts as complete before this."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo

from siaran_shared.events import Announcement
from siaran_shared.regions import NATIONAL, ZONE_OFFSETS, regions


def _next(after: datetime, hhmm: str, zone: tzinfo) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    local = after.astimezone(zone)
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at >= local else at + timedelta(days=1)


def last_release(
    announcement: Announcement, accepted_at: datetime, targeted: Iterable[str]
) -> datetime:
    """When the last of the announcement's deliveries is due for release."""
    base = accepted_at
    if announcement.publish_at is not None and announcement.publish_at > base:
        base = announcement.publish_at
    hhmm = announcement.publish_local_time
    if not hhmm:
        return base
    known = regions()
    zones = {"WIB" if r == NATIONAL else known.zone_of(r) for r in targeted if r == NATIONAL
             or known.exists(r)} or {"WIB"}  # fmt: skip
    return max(_next(base, hhmm, ZONE_OFFSETS[zone]) for zone in zones).astimezone(UTC)
