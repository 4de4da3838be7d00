"""Deliveries that went well are logged per announcement and second; the others per delivery.

A national fan-out is thousands of deliveries; a line for each delivered one cost CPU
(bench/README.md, Publisher) and buried the few lines an operator needs (failures,
retries, expiries).
Every outcome is also an event on the results topic and a document in the store, so the
delivered ones are counted here and logged as one `deliveries_finished` line per
announcement and interval, carrying the announcement's trace id (so the line still leads
to the trace). The first delivered outcome of an announcement is also logged on its own at
once (`delivery_finished`, as every failure is); the others only at DEBUG.
See docs/decisions/0005-publisher-consumption.md.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from siaran_shared.logging import get_logger

log = get_logger(__name__)
#: How many announcements the tally remembers having seen (to log only their first outcome).
REMEMBERED = 10_000


@dataclass(slots=True)
class _Counts:
    trace_id: str | None
    statuses: Counter[str] = field(default_factory=Counter)


class Tally:
    """Outcomes counted since the last flush, per announcement."""

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._counts: dict[str, _Counts] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    def add(self, announcement_id: str, status: str, trace_id: str | None = None) -> bool:
        """Count one outcome; `trace_id` (32 hex digits) is the announcement's trace.

        True for the first outcome of an announcement seen lately: log that one as well."""
        counts = self._counts.get(announcement_id)
        if counts is None:
            counts = self._counts[announcement_id] = _Counts(trace_id)
        counts.statuses[status] += 1
        if announcement_id in self._seen:
            return False
        self._seen[announcement_id] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True

    def flush(self) -> None:
        """Log what was counted, one line per announcement, and start counting afresh."""
        counted, self._counts = self._counts, {}
        for announcement_id, counts in counted.items():
            extra = {"trace_id": counts.trace_id} if counts.trace_id else {}
            log.info("deliveries_finished", announcement_id=announcement_id,
                     total=counts.statuses.total(), statuses=dict(counts.statuses),
                     **extra)  # fmt: skip

    async def run(self) -> None:
        """Flush every `interval` seconds for the service's lifetime, and once at the end."""
        try:
            while True:
                await asyncio.sleep(self._interval)
                self.flush()
        finally:
            self.flush()
