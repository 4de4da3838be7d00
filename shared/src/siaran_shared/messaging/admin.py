"""Topic administration: the contract's topics, created with their partition counts."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from siaran_shared.events.topics import TOPICS, TopicSpec
from siaran_shared.messaging.options import aiokafka_options
from siaran_shared.settings import Settings


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(client_id="siaran-admin", **aiokafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        created = []
        for spec in (s for s in specs if s.name not in existing):
            try:
                await admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, 1, topic_configs=dict(spec.configs))]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()
