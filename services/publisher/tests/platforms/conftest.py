"""The local platforms' server (servers.py), the platform sender and the delivery logic
pointed at it, and tasks to send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from siaran_publisher.claims import INDEXES
from siaran_publisher.config import PublisherSettings
from siaran_publisher.platforms.common import Posts
from siaran_publisher.platforms.sender import PlatformSender
from siaran_publisher.scheduler import Scheduler
from siaran_publisher.wiring import assemble
from siaran_shared.events import DeliveryPlanned, Media, utcnow
from siaran_shared.secrets import Secrets
from siaran_shared.store import Store, open_store

from ..conftest import FlakyWrites, Harness, _keep
from .servers import GOOGLE_TOKEN, TOKEN, Platforms

__all__ = ["GOOGLE_TOKEN", "TOKEN", "Platforms"]  # what the tests take from here


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    p = Platforms()
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


@pytest.fixture
async def native(tmp_path: Path, platforms: Platforms) -> AsyncIterator[Harness]:
    (tmp_path / "PAGE_TOKEN").write_text(TOKEN)
    store = open_store(f"sqlite:///{tmp_path / 'publisher.db'}", "publisher")
    await store.connect()
    h = native_harness(store, tmp_path, platforms)
    try:
        yield h
    finally:
        await h.delivery.transport.close()
        await store.close()


def native_harness(store: Store, tmp_path: Path, platforms: Platforms, **settings: Any) -> Harness:
    """The delivery logic over `store` (a second one over the same store: a restart),
    pointed at the local platforms."""
    docs = FlakyWrites(store.collection("deliveries", INDEXES))
    b = platforms.bases()
    config = PublisherSettings(
        secrets_dir=tmp_path, retry_max_attempts=10, retry_base_seconds=0.01,
        retry_max_delay_seconds=0.05, graph_api_url=b.graph, threads_api_url=b.threads,
        tiktok_api_url=b.tiktok, youtube_api_url=b.youtube,
        google_token_url=f"{platforms.base}{GOOGLE_TOKEN}", **settings,
    )  # fmt: skip
    delivery = assemble(docs, config, owner="test:1", posts=store.collection("platform_posts"))  # type: ignore[arg-type]
    h = Harness(
        delivery, Scheduler(delivery.claims.schedule, lambda ts: _keep(h, ts), poll=0.05), docs
    )
    return h


@pytest.fixture
async def sender(tmp_path: Path, platforms: Platforms) -> AsyncIterator[PlatformSender]:
    (tmp_path / "PAGE_TOKEN").write_text(TOKEN)
    store = open_store(f"sqlite:///{tmp_path / 'publisher.db'}", "publisher")
    await store.connect()
    s = PlatformSender(
        Secrets(tmp_path), Posts(store.collection("platform_posts")), platforms.bases()
    )
    try:
        yield s
    finally:
        await s.close()
        await store.close()


def task(endpoint: str, *media: Media, **fields: object) -> DeliveryPlanned:
    values: dict[str, object] = dict(
        delivery_id="a1:c1",
        announcement_id="a1",
        channel_id="c1",
        region="73.03",
        province="73",
        kind=endpoint.split(":")[0],
        endpoint=endpoint,
        title="Vaksinasi gratis",
        text="Vaksinasi gratis di Bantaeng",
        link="https://example.go.id/b/1",
        accepted_at=utcnow(),
        media=media,
    )
    values.update(fields)
    return DeliveryPlanned.model_validate(values)


def image() -> Media:
    return Media(url="https://cdn.example.go.id/a.jpg", type="image", alt="Posko")


def video(base: str) -> Media:
    return Media(url=f"{base}/files/clip.mp4", type="video")
