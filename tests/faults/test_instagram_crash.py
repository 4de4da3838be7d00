"""The publisher killed with SIGKILL in the middle of Instagram's container flow, then
restarted: the container it created is the one published, once. Two moments: after the
container was created and before media_publish was sent (the status check hangs), and while
media_publish is in flight (Instagram published it; the publisher never heard). Either way
exactly one post is published and one container created."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from siaran_shared.events import DeliveryCompleted, DeliveryPlanned, DeliveryStatus, Media, utcnow
from siaran_shared.events.topics import DELIVERIES, RESULTS
from siaran_shared.messaging import ce_headers

from services.publisher.tests.platforms.servers import TOKEN, Platforms
from tests.e2e.harness import RunningStack, eventually, read_to_end, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]

IG = "17841400000000000"
CREATE = f"/graph/v23.0/{IG}/media"
PUBLISH = f"/graph/v23.0/{IG}/media_publish"
STATUS = "/graph/v23.0/ig-container-1"


@dataclass
class Instagram(Platforms):
    """The platforms' server, where the first request to one (method, path) never gets an
    answer before the test lets it go (the publisher is killed meanwhile)."""

    hang: tuple[str, str] = ("", "")
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    published: bool = False  # media_publish received (the post is live on Instagram)

    async def _handle(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if request.method == "GET" and request.path == STATUS and self.published:
            return web.json_response({"status_code": "PUBLISHED", "id": "ig-container-1"})
        if (request.method, request.path) == self.hang and not self.hung.is_set():
            self.published |= request.path == PUBLISH
            self.hung.set()
            await self.release.wait()
            return web.Response(status=502)
        if request.path == PUBLISH:
            self.published = True
        return await super()._handle(request)


@pytest.fixture
async def instagram() -> AsyncIterator[Instagram]:
    server = Instagram()
    await server.start()
    try:
        yield server
    finally:
        server.release.set()
        await server.stop()


async def crash_and_restart(tmp_path: Path, server: Instagram) -> DeliveryCompleted:
    """Send one Instagram delivery, SIGKILL the publisher once the server holds the chosen
    request, restart it; the delivery's outcome."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "IG_TOKEN").write_text(TOKEN)
    env = {"SIARAN_SECRETS_DIR": str(secrets), "SIARAN_GRAPH_API_URL": server.bases().graph,
           "SIARAN_CLAIM_LEASE_SECONDS": "3", "SIARAN_RETRY_BASE_SECONDS": "0.2",
           "SIARAN_PUBLISHER_SCHEDULE_POLL_SECONDS": "0.1"}  # fmt: skip
    stack = await start_stack(tmp_path / "stack", env, services=("publisher",))
    try:
        task = await plan(stack)
        await asyncio.wait_for(server.hung.wait(), 60)
        await stack.stack.services["publisher"].kill()
        server.release.set()
        await stack.stack.services["publisher"].start()
        await stack.stack.wait_ready(60, ("publisher",))
        return await eventually(lambda: outcome(stack, task), within=90, every=0.5,
                                what="the delivery's outcome after the restart")  # fmt: skip
    finally:
        await stack.stop()


async def plan(stack: RunningStack) -> DeliveryPlanned:
    announcement = f"ig-crash-{uuid.uuid4().hex[:6]}"
    task = DeliveryPlanned(
        delivery_id=f"{announcement}:ig", announcement_id=announcement, channel_id="ig",
        region="73.03", province="73", kind="instagram",
        endpoint=f"instagram://{IG}?token={{secret:IG_TOKEN}}", title="Vaksinasi",
        text="Vaksinasi gratis di Bantaeng", accepted_at=utcnow(),
        media=(Media(url="https://cdn.example.go.id/poster.jpg", type="image"),),
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=stack.stack.config.bootstrap)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in ce_headers(task, source="test").items()]
        await producer.send_and_wait(DELIVERIES, task.model_dump_json().encode(),
                                     key=b"ig", headers=headers)  # fmt: skip
    finally:
        await producer.stop()
    return task


async def outcome(stack: RunningStack, task: DeliveryPlanned) -> DeliveryCompleted | None:
    records = await read_to_end(stack.stack.config.bootstrap, RESULTS)
    outcomes = [DeliveryCompleted.model_validate_json(r.value or b"") for r in records]
    return next((o for o in outcomes if o.delivery_id == task.delivery_id), None)


async def test_killed_after_the_container_was_created_publishes_that_container_once(
    tmp_path: Path, instagram: Instagram
) -> None:
    instagram.hang = ("GET", STATUS)  # created; the status check never answers
    finished = await crash_and_restart(tmp_path, instagram)
    assert finished.status is DeliveryStatus.DELIVERED
    assert finished.post_id == "ig-media-1"
    assert len(instagram.made("POST", CREATE)) == 1
    [publish] = instagram.made("POST", PUBLISH)
    assert publish.form == {"creation_id": "ig-container-1"}


async def test_killed_while_media_publish_was_in_flight_does_not_publish_again(
    tmp_path: Path, instagram: Instagram
) -> None:
    instagram.hang = ("POST", PUBLISH)  # Instagram publishes; the answer never arrives
    finished = await crash_and_restart(tmp_path, instagram)
    assert finished.status is DeliveryStatus.DELIVERED
    assert instagram.published
    assert instagram.made("POST", PUBLISH) == []  # the one publish was the one held
    assert len(instagram.made("POST", CREATE)) == 1
    assert "ig-container-1" in (finished.response or "")
