"""Event schemas and topic names: the only definition of what travels between services."""

from siaran_shared.events.models import (
    EVENT_TYPES,
    Announcement,
    AnnouncementAccepted,
    AnnouncementCancelled,
    Channel,
    ChannelConfigured,
    ChannelRemoved,
    DeadLetter,
    DeliveryAction,
    DeliveryCompleted,
    DeliveryPlanned,
    DeliveryStatus,
    Event,
    Priority,
    Target,
    utcnow,
)

__all__ = [
    "EVENT_TYPES",
    "Announcement",
    "AnnouncementAccepted",
    "AnnouncementCancelled",
    "Channel",
    "ChannelConfigured",
    "ChannelRemoved",
    "DeadLetter",
    "DeliveryAction",
    "DeliveryCompleted",
    "DeliveryPlanned",
    "DeliveryStatus",
    "Event",
    "Priority",
    "Target",
    "utcnow",
]
