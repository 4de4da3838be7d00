"""Which offset of a partition may be committed: the first one not finished yet."""

from __future__ import annotations

import heapq


class PartitionOffsets:
    """Offsets handed out for processing and finished, possibly out of order."""

    def __init__(self) -> None:
        self._pending: set[int] = set()
        self._heap: list[int] = []
        self._high = -1  # highest offset seen
        self._committed: int | None = None

    def started(self, offset: int) -> None:
        self._pending.add(offset)
        heapq.heappush(self._heap, offset)
        self._high = max(self._high, offset)

    def finished(self, offset: int) -> None:
        self._pending.discard(offset)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def committable(self) -> int | None:
        """The offset to commit (next to read), if it moved since the last commit."""
        while self._heap and self._heap[0] not in self._pending:
            heapq.heappop(self._heap)
        position = self._heap[0] if self._heap else self._high + 1
        if position <= 0 or position == self._committed:
            return None
        return position

    def committed(self, offset: int) -> None:
        self._committed = offset
