"""A local server speaking the platforms' documented APIs (Graph for Facebook and Instagram,
Threads, TikTok's Content Posting API and OAuth token endpoint, YouTube's Data API with
resumable uploads, Google's OAuth token endpoint): the unit tests here and the end-to-end
tests (tests/e2e/test_social.py, tests/faults/test_instagram_crash.py) post to it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from siaran_publisher.platforms.sender import ApiBases

from ..conftest import ScriptedReceiver

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
    #: Threads posts published so far (each gets its own id: th-post-1, th-post-2, ...)
    threads_posts: int = 0
    #: the YouTube upload session: bytes it holds, whether the video is complete; the next
    #: upload kept only up to `upload_breaks_after` bytes (then 503), or completed but
    #: answered 503 (`upload_answer_lost`); `session_expired` answers its status with 404
    session_bytes: int = 0
    upload_done: bool = False
    upload_breaks_after: int | None = None
    upload_answer_lost: bool = False
    session_expired: bool = False
    #: what TikTok's creator info offers (an unaudited app's account: SELF_ONLY alone)
    privacy_levels: list[str] = field(
        default_factory=lambda: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    )

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
            return await self._upload(request)
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

    async def _upload(self, request: web.Request) -> web.Response:
        """YouTube's resumable session: a status query (`Content-Range: bytes */SIZE`) or the
        bytes from where the session stopped (`Content-Range: bytes FIRST-LAST/SIZE`)."""
        self.calls.append(Call("PUT", request.path, {}, dict(request.headers), {}))
        span = request.headers.get("Content-Range", "")
        video = {"id": "yt-video-1", "kind": "youtube#video"}
        backend_error = {"error": {"code": 503, "message": "Backend Error",
                                   "errors": [{"reason": "backendError"}]}}  # fmt: skip
        if span.startswith("bytes */"):
            if self.session_expired:
                return web.json_response({"error": {"code": 404}}, status=404)
            if self.upload_done:
                return web.json_response(video, status=201)
            have = {"Range": f"bytes=0-{self.session_bytes - 1}"} if self.session_bytes else {}
            return web.Response(status=308, headers=have)
        first = int(span.removeprefix("bytes ").partition("-")[0] or 0) if span else 0
        assert first == self.session_bytes, f"resumed at {first}, not {self.session_bytes}"
        received = 0
        async for chunk in request.content.iter_any():
            received += len(chunk)
        self.uploaded += received
        if self.upload_breaks_after is not None:
            received, self.upload_breaks_after = min(received, self.upload_breaks_after), None
            self.session_bytes += received
            return web.json_response(backend_error, status=503)
        self.session_bytes += received
        self.upload_done = True
        if self.upload_answer_lost:
            self.upload_answer_lost = False
            return web.json_response(backend_error, status=503)
        return web.json_response(video)

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
        if path.startswith("/google/upload/youtube/v3/videos"):  # a new session
            self.session_bytes, self.upload_done, self.session_expired = 0, False, False
            return web.Response(headers={"Location": f"{self.base}/google/upload-session"})
        if path == "/google/youtube/v3/videos" and method == "DELETE":
            return web.Response(status=204)
        if path == "/google/youtube/v3/videos" and method == "PUT":  # videos.update
            return web.json_response({"kind": "youtube#video"} | body)
        if path.startswith("/tiktok/"):
            if path.endswith("/creator_info/query/"):
                return _tiktok({"creator_username": "humas.bantaeng", "comment_disabled": False,
                                "privacy_level_options": self.privacy_levels,
                                "max_video_post_duration_sec": 600})  # fmt: skip
            if path.endswith("/status/fetch/"):
                status = self.statuses.pop(0) if self.statuses else "PUBLISH_COMPLETE"
                data: dict[str, Any] = {"status": status, "fail_reason": ""}
                if status == "PUBLISH_COMPLETE":
                    data["publicaly_available_post_id"] = [7_300_000_000_000_000_001]
                return _tiktok(data)
            return _tiktok({"publish_id": "v_pub_url~v2.123"})
        last = path.rsplit("/", 1)[-1]
        if method == "DELETE":  # Threads also says which post it deleted
            deleted = {"deleted_id": last} if path.startswith("/threads/") else {}
            return web.json_response({"success": True} | deleted)
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
        }
        if last == "threads_publish":
            self.threads_posts += 1
            return web.json_response({"id": f"th-post-{self.threads_posts}"})
        if last not in ids:  # POST /{post-id}: a Page post edited
            return web.json_response({"success": True})
        return web.json_response(ids[last])


def _tiktok(data: dict[str, Any]) -> web.Response:
    error = {"code": "ok", "message": "", "log_id": "202612010000"}
    return web.Response(
        text=json.dumps({"data": data, "error": error}), content_type="application/json"
    )
