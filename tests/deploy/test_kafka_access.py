"""The Kafka ACLs' table (contract.KAFKA_ACCESS) covers what each service's code subscribes to:
a subscriber added on a topic the service's KafkaUser may not read would be refused in
production, so it fails here first."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from siaran_shared.testing import settings_for_test

SERVICES = ("ingest", "router", "publisher", "metrics")


@pytest.mark.parametrize("name", SERVICES)
def test_every_subscription_is_allowed_by_the_services_kafka_user(
    name: str, contract: ModuleType, tmp_path: Path
) -> None:
    create_app = importlib.import_module(f"siaran_{name}.app").create_app
    broker = create_app(settings_for_test(tmp_path)).state.runtime.broker
    reads, _ = contract.KAFKA_ACCESS[name]
    for subscriber in broker.subscribers:
        topics = {topic.name for topic in subscriber.topics}
        assert topics <= reads, f"{name} subscribes to {sorted(topics - reads)}: add to its ACLs"
        group = getattr(subscriber, "group_id", None)
        assert group in {None, contract.CONSUMER_GROUPS[name]}, f"{name} joins group {group}"
