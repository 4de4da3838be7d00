"""Delivering one task: a publication (publishing.py) or a retraction (retraction.py),
each holding one of the slots while it claims, sends and records."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from siaran_shared.events import DeliveryAction, DeliveryPlanned

from siaran_publisher.finishing import Handled
from siaran_publisher.publishing import Publishing
from siaran_publisher.retraction import Retraction

__all__ = ["Deliverer", "Handled"]


@dataclass
class Deliverer:
    """Sends tasks once each and says how each ended."""

    publishing: Publishing
    retraction: Retraction
    #: deliveries in progress at once, across channels
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(64))

    async def handle(self, task: DeliveryPlanned, headers: Mapping[str, str] = {}) -> Handled:
        """Handle one task; never raises for anything a channel does.

        The whole of claim, send and record holds one of the `slots`, so that few
        deliveries are ever between "sent" and "recorded" (what a crash can repeat)."""
        async with self.slots:
            if task.action is DeliveryAction.RETRACT:
                return await self.retraction.handle(task, headers)
            return await self.publishing.handle(task, headers)
