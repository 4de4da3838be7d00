"""One announcement through all four services, over the bundled broker, into a real
HTTP receiver: the contract's webhook format (its media included), once, and a report that
says delivered."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from tests.e2e.harness import Receiver, RunningStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
MEDIA = {"url": "https://cdn.example.go.id/vaksin.jpg", "type": "image", "alt": "Antrean vaksin"}


async def test_announcement_reaches_webhook_once_and_report_says_delivered(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = f"/hooks/bantaeng-{run}"
    other = f"/hooks/jakarta-{run}"
    async with stack.client("router") as router:
        r = await router.put(
            f"/v1/channels/bantaeng-web-{run}",
            json={
                "region": "73.03",
                "kind": "web",
                "name": "Diskominfo Bantaeng",
                "endpoint": receiver.base + path,
                "tags": ["official", run],
            },
        )
        assert r.status_code == 201, r.text
        r = await router.put(
            f"/v1/channels/jakarta-web-{run}",
            json={"region": "31.71", "kind": "web", "name": "Jakarta Pusat",
                  "endpoint": receiver.base + other, "tags": [run]},
        )  # fmt: skip
        assert r.status_code == 201, r.text

    announcement_id = f"e2e-{run}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={
                "id": announcement_id,
                "title": "Vaksinasi gratis di Bantaeng",
                "body": "Pemerintah Kabupaten Bantaeng membuka layanan vaksinasi gratis.",
                "link": "https://example.go.id/berita/1",
                "hashtags": ["Sehat"],
                "media": [MEDIA],
                # the run's tag: other tests leave channels in province 73 on the shared stack
                "target": {"provinces": ["73"], "tags": [run]},
            },
        )
        assert r.status_code == 202, r.text
        assert r.json() == {"id": announcement_id, "status": "accepted"}

    await eventually(lambda: receiver.at(path), within=30, what="webhook delivery")
    got = receiver.at(path)
    assert len(got) == 1
    request = got[0]
    delivery_id = f"{announcement_id}:bantaeng-web-{run}"
    assert request.headers["Idempotency-Key"] == delivery_id
    assert request.headers["Content-Type"] == "application/cloudevents+json"
    event = request.json
    assert event["specversion"] == "1.0"
    assert event["id"] == delivery_id
    assert event["source"] == "siaran"
    assert event["type"] == "id.siaran.announcement.published.v1"
    data = event["data"]
    assert data["announcement_id"] == announcement_id
    assert data["channel_id"] == f"bantaeng-web-{run}"
    assert data["region"] == "73.03"
    assert data["kind"] == "web"
    assert data["title"] == "Vaksinasi gratis di Bantaeng"
    assert "vaksinasi gratis" in data["text"]
    assert data["link"] == "https://example.go.id/berita/1"
    assert data["hashtags"] == ["Sehat"]
    assert data["priority"] == "normal"
    assert data["media"] == [MEDIA]  # a webhook of any kind gets the pictures and videos
    assert not receiver.at(other), "a channel outside the target received the announcement"

    async def delivered() -> dict[str, object] | None:
        async with stack.client("metrics") as metrics:
            r = await metrics.get(f"/v1/announcements/{announcement_id}/report")
            report = r.json() if r.status_code == 200 else None
            return report if report and report["delivered"] == 1 else None

    report = await eventually(delivered, within=30, what="report says delivered")
    assert report["planned"] == 1
    assert report["pending"] == 0
    assert report["failed"] == 0
    assert report["regions_reached"] == 1
    assert report["by_kind"]["web"]["delivered"] == 1
    assert report["by_province"]["73"]["delivered"] == 1
    assert len(receiver.at(path)) == 1


async def test_signed_webhook_verifies_with_the_channel_secret(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = f"/hooks/signed-{run}"
    secret_name = "E2E_HOOK_SECRET"
    secret = (stack.stack.config.home / "secrets" / secret_name).read_text().strip()
    async with stack.client("router") as router:
        r = await router.put(
            f"/v1/channels/signed-{run}",
            json={"region": "11.01", "kind": "web", "name": "Aceh Selatan",
                  "endpoint": receiver.base + path, "secret": secret_name},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={"title": "Uji tanda tangan", "body": "Isi", "target": {"regencies": ["11.01"]}},
        )
        assert r.status_code == 202, r.text
    await eventually(lambda: receiver.at(path), within=30, what="signed delivery")
    request = receiver.at(path)[0]
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Siaran-Signature"] == expected
