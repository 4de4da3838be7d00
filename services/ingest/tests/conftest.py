"""Fixtures for ingest's handler tests: the app on FastStream's in-memory broker, and a kit of
helpers (clients, keys, the events produced) handed to tests as a fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from siaran_ingest.app import create_app
from siaran_ingest.archive import Archive, Publish
from siaran_ingest.config import IngestConfig
from siaran_ingest.intake import Intake
from siaran_shared.auth import KeyRing
from siaran_shared.events import (
    AnnouncementAccepted,
    AnnouncementCancelled,
    AnnouncementUpdated,
    Event,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, DLQ
from siaran_shared.settings import Settings
from siaran_shared.testing import ServiceUnderTest, service_under_test


async def eventually(
    check: Callable[[], bool], *, within: float = 5.0, what: str = "condition"
) -> None:
    """Wait until `check()` holds (polled), or fail saying what did not happen."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.005)


class PublishFault:
    """Stands between the archive and the broker (create_app's `wrap_publish` seam): passes
    every event through, unless a test sets `fault`, which is then awaited instead."""

    def __init__(self) -> None:
        self.fault: Publish | None = None
        self.attempts = 0

    def around(self, real: Publish) -> Publish:
        async def publish(event: Event) -> None:
            self.attempts += 1
            await (self.fault or real)(event)

        return publish


def factory(fault: PublishFault | None = None, **config: Any) -> Callable[[Settings], FastAPI]:
    """create_app with ingest settings (rate limit off unless asked for)."""
    values: dict[str, Any] = {"rate_per_second": 0} | config
    wrap = fault.around if fault else None
    return lambda settings: create_app(settings, IngestConfig(**values), wrap_publish=wrap)


@dataclass
class Kit:
    sut: ServiceUnderTest
    publish: PublishFault = field(default_factory=PublishFault)

    @property
    def archive(self) -> Archive:
        intake: Intake = self.sut.app.state.intake
        return intake.archive

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        auth = {"Authorization": f"Bearer {token or self.sut.admin_key}"}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.sut.app),
            base_url="http://ingest",
            headers=auth | headers,
        )

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.sut.app), base_url="http://ingest"
        )

    def key(self, name: str, scope: str, *roles: str) -> str:
        ring = KeyRing(self.sut.runtime.settings.resolved_api_keys_file)
        _, token = ring.create(name, scope, roles)
        return token

    def revoke(self, name: str) -> None:
        KeyRing(self.sut.runtime.settings.resolved_api_keys_file).revoke(name)

    def _of_type(self, event_type: str) -> list[Any]:
        return [
            r
            for r in self.sut.seen[ANNOUNCEMENTS]
            if dict(r.headers or ()).get("ce_type", b"").decode() == event_type
        ]

    def accepted(self) -> list[AnnouncementAccepted]:
        records = self._of_type(AnnouncementAccepted.event_type)
        return [AnnouncementAccepted.model_validate_json(r.value) for r in records]

    def cancelled(self) -> list[AnnouncementCancelled]:
        records = self._of_type(AnnouncementCancelled.event_type)
        return [AnnouncementCancelled.model_validate_json(r.value) for r in records]

    def updated(self) -> list[AnnouncementUpdated]:
        records = self._of_type(AnnouncementUpdated.event_type)
        return [AnnouncementUpdated.model_validate_json(r.value) for r in records]

    def keys_of(self, event_type: str) -> list[str]:
        """The record keys of the events of one type on the announcements topic."""
        return [r.key.decode() for r in self._of_type(event_type)]

    @property
    def dead_letters(self) -> list[Any]:
        return list(self.sut.seen[DLQ])


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    fault = PublishFault()
    async with service_under_test(factory(fault), tmp_path, observe=(ANNOUNCEMENTS, DLQ)) as sut:
        yield Kit(sut, fault)


def announcement(announcement_id: str | None = "a-1", **fields: Any) -> dict[str, Any]:
    """A valid announcement body for province 73."""
    body: dict[str, Any] = {
        "title": "Vaksinasi gratis",
        "body": "Pemerintah membuka layanan vaksinasi gratis.",
        "target": {"provinces": ["73"]},
    }
    if announcement_id is not None:
        body["id"] = announcement_id
    return body | fields


@pytest.fixture
def make_announcement() -> Callable[..., dict[str, Any]]:
    return announcement


async def post(kit: Kit, token: str, path: str, body: Any = None) -> Any:
    """POST /v1/announcements<path> with the key `token` (a JSON body when given)."""
    async with kit.client(token) as client:
        return await client.post(f"/v1/announcements{path}", json=body)


async def status_of(kit: Kit, announcement_id: str) -> dict[str, Any]:
    """GET /v1/announcements/<id> as admin: the announcement as shown, which must exist."""
    async with kit.client() as client:
        r = await client.get(f"/v1/announcements/{announcement_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
