"""Topic administration: the contract's topics, created with their partition counts."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from siaran_shared.events.topics import TOPICS, TopicSpec
from siaran_shared.messaging.options import aiokafka_options
from siaran_shared.settings import Settings

#: Replicas of a topic created here: three where the cluster has three brokers (so that
#: acks=all with min.insync.replicas=2 survives a broker), else one per broker.
MAX_REPLICAS = 3


def replication_factor(brokers: int) -> int:
    """Replicas of a new topic on a cluster of `brokers` brokers."""
    return max(1, min(MAX_REPLICAS, brokers))


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(client_id="siaran-admin", **aiokafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        replicas = replication_factor(len((await admin.describe_cluster())["brokers"]))
        created = []
        for spec in (s for s in specs if s.name not in existing):
            try:
                topic = NewTopic(
                    spec.name, spec.partitions, replicas, topic_configs=dict(spec.configs)
                )
                await admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()
