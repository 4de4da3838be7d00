"""A local server speaking the platforms' documented APIs (Graph for Facebook and Instagram,
Threads, TikTok's Content Posting API, YouTube's Data API with resumable uploads), and the
platform sender pointed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from siaran_publisher.claims import INDEXES
from siaran_publisher.config import PublisherSettings
from siaran_publisher.platforms.common import Posts
from siaran_publisher.platforms.sender import ApiBases, PlatformSender
from siaran_publisher.scheduler import Scheduler
from siaran_publisher.wiring import assemble
from siaran_shared.events import DeliveryPlanned, Media, utcnow
from siaran_shared.secrets import Secrets
from siaran_shared.store import Store, open_store

from ..conftest import FlakyWrites, Harness, ScriptedReceiver, _keep

TOKEN = "EAAtok+en/secret=1"
TIKTOK_TOKEN = "/tiktok/v2/oauth/token/"
GOOGLE_TOKEN = "/google-oauth/token"  # a test value, with characters URLs encode
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(200_000)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    body: Any = None


@dataclass
class Platforms(ScriptedReceiver):
    """The platforms' APIs on one local port: each answer scripted or as documented."""

    calls: list[Call] = field(default_factory=list)
    #: (method, path) -> answers (status, json body, headers), used before the default
    scripted: dict[tuple[str, str], list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict
    )
    #: container or publish statuses, in the order the status calls will see them
    statuses: list[str] = field(default_factory=list)
    uploaded: int = 0
    #: the OAuth token endpoints' state: the refresh tokens that still work (rotated on use,
    #: as TikTok does when `rotate`), how long issued access tokens live, how many issued
    refresh_tokens: set[str] = field(default_factory=lambda: {"R0"})
    rotate: bool = True
    expires_in: int = 3600
    issued: int = 0

    def bases(self) -> ApiBases:
        b = self.base
        return ApiBases(f"{b}/graph/v23.0", f"{b}/threads/v1.0", f"{b}/tiktok", f"{b}/google")

    def reply(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.scripted.setdefault((method, path), []).append((status, body, headers or {}))

    def made(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if request.path == "/files/clip.mp4":
            return web.Response(body=VIDEO, content_type="video/mp4")
        if request.path.startswith("/files/"):
            return web.Response(status=404)
        if request.method == "PUT" and request.path == "/google/upload-session":
            async for chunk in request.content.iter_any():
                self.uploaded += len(chunk)
            return web.json_response({"id": "yt-video-1", "kind": "youtube#video"})
        form: dict[str, str] = {}
        body: Any = None
        if request.content_type == "application/json":
            body = await request.json()
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
        self.calls.append(
            Call(
                request.method, request.path, dict(request.query), dict(request.headers), form, body
            )
        )
        scripted = self.scripted.get((request.method, request.path))
        if scripted:
            status, answer, headers = scripted.pop(0)
            return web.json_response(answer, status=status, headers=headers)
        if request.path in (TIKTOK_TOKEN, GOOGLE_TOKEN):
            return self._refresh(form)
        return self._documented(request, body)

    def _refresh(self, form: dict[str, str]) -> web.Response:
        """The OAuth 2.0 refresh grant as TikTok and Google answer it."""
        if form.get("grant_type") != "refresh_token" or form.get("client_secret") != "CS":
            error = {"error": "invalid_client", "error_description": "Client auth failed"}
            return web.json_response(error, status=401)
        if form.get("refresh_token") not in self.refresh_tokens:
            error = {"error": "invalid_grant", "error_description": "Token expired or revoked."}
            return web.json_response(error, status=400)
        self.issued += 1
        answer: dict[str, Any] = {"access_token": f"A{self.issued}", "expires_in": self.expires_in,
                                  "token_type": "Bearer"}  # fmt: skip
        if self.rotate:
            self.refresh_tokens = {f"R{self.issued}"}
            answer |= {"refresh_token": f"R{self.issued}", "refresh_expires_in": 31_536_000}
        return web.json_response(answer)

    def _documented(self, request: web.Request, body: Any) -> web.StreamResponse:
        """The success answers the platforms document."""
        path, method = request.path, request.method
        if path.startswith("/google/upload/youtube/v3/videos"):
            return web.Response(headers={"Location": f"{self.base}/google/upload-session"})
        if path == "/google/youtube/v3/videos" and method == "DELETE":
            return web.Response(status=204)
        if path == "/google/youtube/v3/videos" and method == "PUT":  # videos.update
            return web.json_response({"kind": "youtube#video"} | body)
        if path.startswith("/tiktok/"):
            if path.endswith("/status/fetch/"):
                status = self.statuses.pop(0) if self.statuses else "PUBLISH_COMPLETE"
                data: dict[str, Any] = {"status": status, "fail_reason": ""}
                if status == "PUBLISH_COMPLETE":
                    data["publicaly_available_post_id"] = [7_300_000_000_000_000_001]
                return _tiktok(data)
            return _tiktok({"publish_id": "v_pub_url~v2.123"})
        last = path.rsplit("/", 1)[-1]
        if method == "DELETE":
            return web.json_response({"success": True})
        if method == "GET":  # a container's status
            field_name = request.query.get("fields", "status_code")
            status = self.statuses.pop(0) if self.statuses else "FINISHED"
            return web.json_response({field_name: status, "id": last})
        ids = {
            "feed": {"id": "111_222"},
            "photos": {"id": "333", "post_id": "111_333"},
            "media": {"id": "ig-container-1"},
            "media_publish": {"id": "ig-media-1"},
            "threads": {"id": "th-container-1"},
            "threads_publish": {"id": "th-post-1"},
        }
        if last not in ids:  # POST /{post-id}: a Page post edited
            return web.json_response({"success": True})
        return web.json_response(ids[last])


def _tiktok(data: dict[str, Any]) -> web.Response:
    error = {"code": "ok", "message": "", "log_id": "202612010000"}
    return web.Response(
        text=json.dumps({"data": data, "error": error}), content_type="application/json"
    )


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
