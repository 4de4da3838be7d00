"""Consumer lag per group and topic, published as the `siaran_consumer_lag{group,topic}` gauge.

A background loop (started by every service, see service.py) compares the group's committed
offsets with the topics' end offsets, every `interval` seconds, using its own admin client and
an unsubscribed consumer (never the service's group member, so measuring never rebalances).

On the bundled broker the end offset is the base offset of the last record batch plus one,
not the high watermark (DESIGN.md), so lag can read low by up to the last batch's size minus
one, and even below the committed offset; negative values are clamped to 0. Real Kafka has
no such quirk, so nothing else compensates for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from siaran_shared.events.topics import TOPICS
from siaran_shared.logging import get_logger
from siaran_shared.messaging.options import aiokafka_options
from siaran_shared.metric_names import CONSUMER_LAG
from siaran_shared.settings import Settings
from siaran_shared.telemetry import gauge

log = get_logger(__name__)

#: Seconds between two lag measurements.
LAG_INTERVAL = 10.0


def lag_by_topic(
    committed: Mapping[TopicPartition, int],
    end: Mapping[TopicPartition, int],
) -> dict[str, int]:
    """Messages behind the end, summed per topic; a partition never committed counts whole."""
    totals: dict[str, int] = {}
    for tp, end_offset in end.items():
        position = committed.get(tp, -1)
        behind = end_offset - position if position >= 0 else end_offset
        totals[tp.topic] = totals.get(tp.topic, 0) + max(0, behind)
    return totals


def grouped_topics(broker: KafkaBroker, group: str) -> list[str]:
    """The topics this broker's subscribers read as members of `group`."""
    names: set[str] = set()
    for sub in broker.subscribers:
        if getattr(sub, "group_id", None) == group:
            names.update(t.name for t in getattr(sub, "topics", ()))
    return sorted(names)


class LagProbe:
    """Reads committed and end offsets of one group's topics."""

    def __init__(self, settings: Settings, group: str) -> None:
        self.settings = settings
        self.group = group
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        """Connect the admin client and the offsets-only consumer."""
        options = aiokafka_options(self.settings)
        self._admin = AIOKafkaAdminClient(client_id=f"{self.group}-lag", **options)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(
            client_id=f"{self.group}-lag", group_id=None, enable_auto_commit=False, **options
        )
        await self._consumer.start()

    async def close(self) -> None:
        """Disconnect (safe to call after a failed start)."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()

    async def measure(self, topics: Iterable[str]) -> dict[str, int]:
        """Lag per topic for the group (topics without partitions yet are left out).

        With no topics given, the Siaran topics the group has committed offsets on are
        measured (a service consuming with its own aiokafka consumer under the same group).
        """
        if self._admin is None or self._consumer is None:
            raise RuntimeError("LagProbe.measure() before start()")
        topics = list(topics)
        only_committed = not topics
        if only_committed:  # ask about every Siaran topic (not every broker answers "all")
            topics = [spec.name for spec in TOPICS]
        await self._consumer.topics()  # refreshes metadata: partitions added since are seen
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return {}
        offsets = await self._admin.list_consumer_group_offsets(self.group, partitions=partitions)
        committed = {tp: meta.offset for tp, meta in offsets.items() if meta is not None}
        if only_committed:
            used = {tp.topic for tp, offset in committed.items() if offset >= 0}
            partitions = [tp for tp in partitions if tp.topic in used]
            if not partitions:
                return {}
        end = await self._consumer.end_offsets(partitions)
        return lag_by_topic(committed, end)


async def report_consumer_lag(
    settings: Settings, broker: KafkaBroker, *, interval: float = LAG_INTERVAL
) -> None:
    """Measure the service's consumer lag forever, setting the gauge after each round."""
    group = settings.consumer_group
    # FastStream subscribers of the group; none: whatever the group commits (own consumers).
    topics = grouped_topics(broker, group)
    lag_gauge = gauge(CONSUMER_LAG)
    probe: LagProbe | None = None
    failures = 0
    try:
        while True:
            try:
                if probe is None:
                    probe = LagProbe(settings, group)
                    await probe.start()
                for topic, lag in (await probe.measure(topics)).items():
                    lag_gauge.set(lag, {"group": group, "topic": topic})
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker may be briefly away; keep measuring
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("consumer_lag_unavailable", error=str(exc)[:200], tries=failures)
                if probe is not None:
                    await probe.close()
                    probe = None
            await asyncio.sleep(interval)
    finally:
        if probe is not None:
            await probe.close()
