"""The registry of event types: the CloudEvents `type` of each event → its model (the
models live by subject in announcements.py, channels.py and deliveries.py)."""

from __future__ import annotations

from siaran_shared.events.announcements import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementCompleted,
    AnnouncementUpdated,
)
from siaran_shared.events.base import Event
from siaran_shared.events.channels import ChannelConfigured, ChannelHealthChanged, ChannelRemoved
from siaran_shared.events.deliveries import (
    DeliveriesPlanned,
    DeliveryCompleted,
    DeliveryPlanned,
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        AnnouncementAccepted,
        AnnouncementCancelled,
        AnnouncementUpdated,
        AnnouncementCompleted,
        ChannelConfigured,
        ChannelRemoved,
        DeliveryPlanned,
        DeliveriesPlanned,
        DeliveryCompleted,
        ChannelHealthChanged,
    )
}
