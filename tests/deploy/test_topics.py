"""The topic list the deploy files are checked against is the one the services define."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_contract_topics_are_the_shared_topics(contract: ModuleType) -> None:
    try:
        from siaran_shared.events.topics import TOPICS
    except ImportError as error:
        pytest.skip(f"siaran_shared.events.topics not importable: {error}")
    shared = {spec.name: (spec.partitions, dict(spec.configs)) for spec in TOPICS}
    assert set(shared) == set(contract.TOPICS)
    for name, (partitions, configs) in contract.TOPICS.items():
        assert shared[name][0] == partitions, name
        assert configs.items() <= shared[name][1].items(), name
