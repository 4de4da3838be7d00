"""Consumer lag arithmetic and which topics a service's group reads."""

from __future__ import annotations

from aiokafka import TopicPartition
from siaran_shared.messaging import make_broker, subscriber
from siaran_shared.messaging.lag import grouped_topics, lag_by_topic
from siaran_shared.settings import Settings


def test_lag_sums_partitions_per_topic() -> None:
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    assert lag_by_topic({a0: 5, a1: 10, b0: 7}, {a0: 8, a1: 10, b0: 7}) == {"a": 3, "b": 0}


def test_never_committed_partition_counts_whole_and_low_end_offsets_clamp_to_zero() -> None:
    a0, a1 = TopicPartition("a", 0), TopicPartition("a", 1)
    # a1 committed past the end offset: the bundled broker's end offset can read low.
    assert lag_by_topic({a1: 12}, {a0: 4, a1: 10}) == {"a": 4}


def test_grouped_topics_are_the_group_members_topics_only() -> None:
    settings = Settings().for_service("router")
    broker = make_broker(settings)

    @subscriber(broker, settings, "siaran.announcements.v1", "siaran.results.v1")
    async def grouped(_: object) -> None: ...

    @subscriber(broker, settings, "siaran.channels.v1", grouped=False)
    async def every_instance(_: object) -> None: ...

    assert grouped_topics(broker, "siaran-router") == [
        "siaran.announcements.v1",
        "siaran.results.v1",
    ]
