"""The topic list the deploy files are checked against is the one the services define."""

from __future__ import annotations

from types import ModuleType

from siaran_shared.events.topics import TOPICS


def test_contract_topics_are_the_shared_topics(contract: ModuleType) -> None:
    shared = {spec.name: (spec.partitions, dict(spec.configs)) for spec in TOPICS}
    assert set(shared) == set(contract.TOPICS)
    for name, (partitions, configs) in contract.TOPICS.items():
        assert shared[name][0] == partitions, name
        assert configs.items() <= shared[name][1].items(), name
