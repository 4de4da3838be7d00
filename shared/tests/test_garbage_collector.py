"""A service process keeps what start-up made out of later collections
(`siaran_shared.service.settle_garbage_collector`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from siaran_shared.service import settle_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen() -> None:
    made_at_start_up = [[] for _ in range(1000)]  # containers the collector tracks

    settle_garbage_collector()

    assert gc.get_freeze_count() >= len(made_at_start_up)


@pytest.mark.usefixtures("restored_collector")
def test_garbage_of_start_up_is_collected_before_the_freeze() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.collect()
    gc.disable()  # no collection but the one under test
    try:
        garbage = weakref.ref(Cycle())  # unreachable at once, but only a collection frees it
        assert garbage() is not None

        settle_garbage_collector()
    finally:
        gc.enable()

    assert garbage() is None  # collected, not frozen for the life of the process
