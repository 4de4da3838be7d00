"""Helpers for browser tests with several people: a signed-in tab per key, announcements and
channels set up through the APIs, and a dead letter on the inbound topic."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page
from siaran_shared.events.topics import INBOUND

from tests.browser.conftest import DESKTOP, Site, watch
from tests.browser.test_console import sign_in
from tests.e2e.harness import eventually


@asynccontextmanager
async def person(
    browser: Browser, site: Site, key: str, viewport: dict[str, int] = DESKTOP
) -> AsyncIterator[Page]:
    """A browser of its own, signed in with `key`; fails on any alert or script error."""
    context = await browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    try:
        tab = await context.new_page()
        watched = watch(tab)
        await sign_in(tab, key)
        yield tab
        watched.check()
    finally:
        await context.close()


async def submit(site: Site, key: str, **fields: Any) -> str:
    """An announcement submitted through ingest with `key`; returns its id."""
    body = {"title": "Uji alur kerja", "body": "Isi.", "target": {"provinces": ["73"]}} | fields
    async with httpx.AsyncClient(base_url=site.stack.url("ingest"), timeout=10.0) as ingest:
        response = await ingest.post(
            "/v1/announcements", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code in (201, 202), response.text
    return str(response.json()["id"])


async def failing_channel(site: Site, path: str, status: int) -> str:
    """A sms-kind webhook channel in Bantaeng (73.03) whose receiver answers `status`."""
    site.receiver.status_for[path] = [status] * 50
    channel_id = f"browser-failing-{uuid.uuid4().hex[:6]}"
    body = {"region": "73.03", "kind": "sms", "name": "Bantaeng SMS gateway",
            "endpoint": f"{site.receiver.base}{path}"}  # fmt: skip
    async with site.stack.client("router") as router:
        assert (await router.put(f"/v1/channels/{channel_id}", json=body)).status_code in (200, 201)

        async def routed() -> bool:
            preview = {
                "title": "t",
                "body": "b",
                "target": {"regencies": ["73.03"], "kinds": ["sms"]},
            }
            answer = await router.post("/v1/previews", json=preview)
            return bool(answer.status_code == 200 and answer.json()["channels"] >= 1)

        await eventually(routed, within=30, what="the failing channel in the router")
    return channel_id


async def dead_letter(site: Site, title: str, key: str | None = None) -> str:
    """An inbound message with an API key ingest refuses: it becomes a dead letter, once
    metrics lists it (under its record `key`, returned)."""
    key = key or uuid.uuid4().hex
    producer = AIOKafkaProducer(bootstrap_servers=site.stack.stack.config.bootstrap)
    await producer.start()
    try:
        value = json.dumps({"title": title, "body": "x", "target": {"provinces": ["73"]}})
        await producer.send_and_wait(INBOUND, value.encode(), key=key.encode(),
                                     headers=[("authorization", b"Bearer siaran_x_y")])  # fmt: skip
    finally:
        await producer.stop()

    async def listed() -> bool:
        async with site.stack.client("metrics") as metrics:
            answer = await metrics.get("/v1/dead-letters", params={"limit": 500})
        return answer.status_code == 200 and any(i["key"] == key for i in answer.json()["items"])

    await eventually(listed, within=30, what="the dead letter in metrics")
    return key
