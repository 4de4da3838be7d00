"""Event schemas carried on Siaran's topics: frozen pydantic models with a schema version,
one module per subject (announcements, channels, deliveries), and the registry of event
types."""

from __future__ import annotations

from siaran_shared.events.announcements import (
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementCompleted,
    AnnouncementUpdated,
    CompletionStatus,
    Fallback,
    Media,
    Priority,
    Target,
)
from siaran_shared.events.base import Event, utcnow
from siaran_shared.events.channels import (
    Channel,
    ChannelConfigured,
    ChannelHealth,
    ChannelHealthChanged,
    ChannelRemoved,
)
from siaran_shared.events.deliveries import (
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
)

__all__ = [
    "EVENT_TYPES",
    "Announcement",
    "AnnouncementAccepted",
    "AnnouncementCancelled",
    "AnnouncementCompleted",
    "AnnouncementUpdated",
    "Channel",
    "ChannelConfigured",
    "ChannelHealth",
    "ChannelHealthChanged",
    "ChannelRemoved",
    "CompletionStatus",
    "DeliveryAction",
    "DeliveryCompleted",
    "DeliveryPlanned",
    "DeliveryStatus",
    "Event",
    "Fallback",
    "Media",
    "Priority",
    "Target",
    "utcnow",
]

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
        DeliveryCompleted,
        ChannelHealthChanged,
    )
}
