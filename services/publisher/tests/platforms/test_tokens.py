"""Refresh tokens (TikTok, YouTube through Google OAuth 2.0) against a local token endpoint
speaking the refresh grant: the access token is refreshed before it expires, a rotated
refresh token is kept (the old one stops working), both are stored encrypted, and a refresh
the platform refuses (`invalid_grant`) marks the channel needs reconnect."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from siaran_publisher.channels import CurrentChannels, Reconnects
from siaran_publisher.config import PublisherSettings
from siaran_publisher.outcome import Verdict
from siaran_publisher.platforms.common import Posts
from siaran_publisher.platforms.sender import PlatformSender
from siaran_publisher.platforms.tokens import Vault
from siaran_publisher.wiring import platform_sender
from siaran_shared.secrets import Secrets
from siaran_shared.store import Store, open_store

from .conftest import Platforms, image, task, video
from .servers import GOOGLE_TOKEN, TIKTOK_TOKEN

GRANT = "refresh={secret:R}&client_id={secret:CID}&client_secret={secret:CSEC}"
TT = "tiktok://?token={secret:T}&" + GRANT
YT = "youtube://UC1234567890123456789012?token={secret:T}&" + GRANT
INIT = "/tiktok/v2/post/publish/content/init/"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    for name, value in {"T": "A-initial", "R": "R0", "CID": "client-1", "CSEC": "CS",
                        "TOKEN_KEY": Fernet.generate_key().decode()}.items():  # fmt: skip
        (tmp_path / name).write_text(value)
    s = open_store(f"sqlite:///{tmp_path / 'publisher.db'}", "publisher")
    await s.connect()
    yield s
    await s.close()


def build(store: Store, tmp_path: Path, platforms: Platforms) -> PlatformSender:
    b = platforms.bases()
    settings = PublisherSettings(
        secrets_dir=tmp_path, tiktok_api_url=b.tiktok, youtube_api_url=b.youtube,
        google_token_url=f"{platforms.base}{GOOGLE_TOKEN}",
    )  # fmt: skip
    docs = store.collection("platform_posts")
    secrets = Secrets(tmp_path)
    return platform_sender(Posts(docs), settings, secrets,
                           Reconnects(docs, CurrentChannels()), Vault(docs, secrets))  # fmt: skip


def bearer(platforms: Platforms, path: str) -> list[str]:
    return [c.headers["Authorization"] for c in platforms.made("POST", path)]


async def test_tiktok_token_is_refreshed_and_the_rotated_refresh_token_kept(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    platforms.expires_in = 60  # inside the refresh margin: every use refreshes
    sender = build(store, tmp_path, platforms)
    first = await sender.send(task(TT, image()))
    second = await sender.send(task(TT, image(), delivery_id="a2:c1"))
    await sender.close()
    restarted = build(store, tmp_path, platforms)  # the rotated token is in the store
    third = await restarted.send(task(TT, image(), delivery_id="a3:c1"))
    await restarted.close()
    assert [a.verdict for a in (first, second, third)] == [Verdict.DELIVERED] * 3
    refreshes = platforms.made("POST", TIKTOK_TOKEN)
    assert [c.form["refresh_token"] for c in refreshes] == ["R0", "R1", "R2"]
    assert refreshes[0].form == {"client_key": "client-1", "client_secret": "CS",
                                 "grant_type": "refresh_token", "refresh_token": "R0"}  # fmt: skip
    assert bearer(platforms, INIT) == ["Bearer A1", "Bearer A2", "Bearer A3"]


async def test_a_live_token_is_not_refreshed_again_and_is_stored_encrypted(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    sender = build(store, tmp_path, platforms)
    await sender.send(task(TT, image()))
    await sender.send(task(TT, image(), delivery_id="a2:c1"))
    await sender.close()
    assert len(platforms.made("POST", TIKTOK_TOKEN)) == 1
    assert bearer(platforms, INIT) == ["Bearer A1", "Bearer A1"]
    doc = await store.collection("platform_posts").get("#token:c1")
    assert doc is not None
    key = Fernet((tmp_path / "TOKEN_KEY").read_text())
    assert (doc["access"], doc["refresh"]) != ("A1", "R1")
    assert (key.decrypt(doc["access"]), key.decrypt(doc["refresh"])) == (b"A1", b"R1")
    assert "client-1" not in json.dumps(doc)


async def test_youtube_refreshes_through_googles_token_endpoint(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    platforms.rotate = False  # Google keeps the refresh token
    sender = build(store, tmp_path, platforms)
    attempt = await sender.send(task(YT, video(platforms.base)))
    await sender.close()
    assert attempt.verdict is Verdict.DELIVERED
    [refresh] = platforms.made("POST", GOOGLE_TOKEN)
    assert refresh.form["client_id"] == "client-1"
    [upload] = platforms.made("POST", "/google/upload/youtube/v3/videos")
    assert upload.headers["Authorization"] == "Bearer A1"


async def test_a_revoked_refresh_token_marks_the_channel_needs_reconnect(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    platforms.refresh_tokens = set()  # revoked
    sender = build(store, tmp_path, platforms)
    attempt = await sender.send(task(TT, image()))
    again = await sender.send(task(TT, image(), delivery_id="a2:c1"))
    await sender.close()
    assert attempt.verdict is Verdict.PERMANENT
    assert attempt.token_dead
    assert "invalid_grant" in attempt.summary
    assert "the TikTok token of this channel expired or was revoked" in again.summary
    assert len(platforms.made("POST", TIKTOK_TOKEN)) == 1
    assert platforms.made("POST", INIT) == []


async def test_without_the_token_key_secret_the_send_fails_saying_which_secret(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    (tmp_path / "TOKEN_KEY").unlink()
    sender = build(store, tmp_path, platforms)
    attempt = await sender.send(task(TT, image()))
    await sender.close()
    assert attempt.verdict is Verdict.PERMANENT
    assert "TOKEN_KEY" in attempt.summary
    assert platforms.made("POST", INIT) == []


async def test_a_grant_missing_its_client_secret_is_refused_without_a_call(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    sender = build(store, tmp_path, platforms)
    attempt = await sender.send(task("tiktok://?token={secret:T}&refresh={secret:R}", image()))
    await sender.close()
    assert attempt.verdict is Verdict.PERMANENT
    assert "client_secret=" in attempt.summary
    assert platforms.calls == []


async def test_a_channel_saved_with_a_new_refresh_token_starts_from_it(
    store: Store, tmp_path: Path, platforms: Platforms
) -> None:
    sender = build(store, tmp_path, platforms)
    await sender.send(task(TT, image()))
    (tmp_path / "R").write_text("R-new")  # the office connected the account again
    platforms.refresh_tokens.add("R-new")
    platforms.expires_in = 60
    await sender.send(task(TT, image(), delivery_id="a2:c1"))
    await sender.close()
    assert [c.form["refresh_token"] for c in platforms.made("POST", TIKTOK_TOKEN)] == [
        "R0",
        "R-new",
    ]
