"""Event schemas and topic names: the only definition of what travels between services."""

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
    DeliveriesPlanned,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    PlannedDelivery,
    PlannedEntry,
)
from siaran_shared.events.models import EVENT_TYPES

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
    "DeliveriesPlanned",
    "DeliveryAction",
    "DeliveryCompleted",
    "DeliveryPlanned",
    "DeliveryStatus",
    "Event",
    "Fallback",
    "Media",
    "PlannedDelivery",
    "PlannedEntry",
    "Priority",
    "Target",
    "utcnow",
]
