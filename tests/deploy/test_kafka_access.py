"""The Kafka ACLs' table (contract.KAFKA_ACCESS) covers what each service's code subscribes to:
a subscriber added on a topic the service's KafkaUser may not read would be refused in
production, so it fails here first. A service not in that table (the console) is an API client
with no broker at all."""

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


def test_every_service_is_on_kafka_or_a_client_of_the_apis(contract: ModuleType) -> None:
    on_kafka, clients = set(contract.KAFKA_ACCESS), set(contract.API_CLIENTS)
    assert not on_kafka & clients
    assert on_kafka | clients == set(contract.SERVICES)
    assert set(SERVICES) == on_kafka


@pytest.mark.parametrize("name", ["console"])
def test_an_api_client_has_no_broker_and_reads_its_api_urls(
    name: str, contract: ModuleType, tmp_path: Path, service_variables: dict[str, frozenset[str]]
) -> None:
    assert name in contract.API_CLIENTS
    app = importlib.import_module(f"siaran_{name}.app").create_app(settings_for_test(tmp_path))
    assert not hasattr(app.state, "runtime"), f"{name} starts a broker/store runtime"
    for target in contract.API_CLIENTS[name]:
        assert contract.api_url_variable(name, target) in service_variables[name]
