"""Kafka topic names (contract) and their default partition counts, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

INBOUND = "siaran.inbound.v1"
ANNOUNCEMENTS = "siaran.announcements.v1"
CHANNELS = "siaran.channels.v1"
DELIVERIES = "siaran.deliveries.v1"
DELIVERIES_RETRY = "siaran.deliveries.retry.v1"
RESULTS = "siaran.results.v1"
#: Extension: one summary per released chunk of an announcement's publish tasks, without
#: their text (keyed by announcement id); what metrics counts as planned.
PLANS = "siaran.plans.v1"
DLQ = "siaran.dlq.v1"
#: Extension of the contract: channel health as the publisher sees it (keyed by channel id).
CHANNEL_HEALTH = "siaran.channel-health.v1"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How a topic is created: name, partitions and topic-level configs."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(INBOUND, 6),
    TopicSpec(ANNOUNCEMENTS, 6),
    TopicSpec(CHANNELS, 1, {"cleanup.policy": "compact"}),
    TopicSpec(DELIVERIES, 12),
    TopicSpec(DELIVERIES_RETRY, 12),
    TopicSpec(RESULTS, 6),
    TopicSpec(PLANS, 6),
    TopicSpec(DLQ, 1),
    TopicSpec(CHANNEL_HEALTH, 1, {"cleanup.policy": "compact"}),
)
