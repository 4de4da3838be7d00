"""Every service declares how long its records are kept and prunes its store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from siaran_ingest.app import create_app as ingest_app
from siaran_metrics.app import create_app as metrics_app
from siaran_publisher.app import create_app as publisher_app
from siaran_router.app import create_app as router_app
from siaran_shared.service import Runtime
from siaran_shared.settings import Settings

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (ingest_app, {"announcements": ("accepted_at", 400 * DAY)}),
        (
            router_app,
            {
                "plans": ("accepted_at", 400 * DAY),
                "release_batches": ("final_at", 14 * DAY),
                "release_tasks": ("final_at", 14 * DAY),
            },
        ),
        (
            publisher_app,
            {
                "deliveries": ("final_at", 14 * DAY),
                "platform_posts": ("at", 14 * DAY),
            },
        ),
        (
            metrics_app,
            {
                "deliveries": ("completed_at", 400 * DAY),
                "announcements": ("accepted_at", 400 * DAY),
                "completions": ("completed_at", 400 * DAY),
                "dead_letters": ("received_at", 30 * DAY),
            },
        ),
    ],
)
def test_each_service_keeps_its_records_for_their_retention_and_prunes(
    tmp_path: Path,
    factory: Callable[[Settings], FastAPI],
    expected: dict[str, tuple[str, timedelta]],
) -> None:
    app = factory(Settings(home=tmp_path))
    runtime: Runtime = app.state.runtime
    expiries = {
        c.name: (c.expiry.field, c.expiry.after)
        for c in runtime.store.collections()
        if c.expiry is not None
    }
    assert expiries == expected
    assert "retention" in runtime.loops
