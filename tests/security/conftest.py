from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from siaran_ingest.app import create_app
from siaran_shared.auth import KeyRing
from siaran_shared.events.topics import ANNOUNCEMENTS, DLQ
from siaran_shared.testing import ServiceUnderTest, service_under_test


@pytest.fixture
async def ingest(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_app, tmp_path, observe=(ANNOUNCEMENTS, DLQ)) as sut:
        yield sut


def key_for(sut: ServiceUnderTest, scope: str, name: str | None = None) -> str:
    ring = KeyRing(sut.runtime.settings.resolved_api_keys_file)
    _, token = ring.create(name or scope.replace(":", "-"), scope)
    return token


def client(sut: ServiceUnderTest, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app, raise_app_exceptions=False),
        base_url="http://ingest",
        headers=headers,
    )
