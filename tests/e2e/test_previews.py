"""Previews on the real broker: the text `POST /v1/previews` shows for each kind is, byte for
byte, what the webhook receivers of that kind are sent once the announcement is submitted."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.harness import Receiver, RunningStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]

BODY = (
    "Hujan lebat disertai angin kencang diperkirakan terjadi di pesisir selatan Sulawesi "
    "Selatan pada 2–4 Desember. Warga diminta menjauhi pantai, mengamankan perahu, dan "
    "mengikuti arahan BPBD setempat. Posko darurat dibuka di setiap kecamatan. 🌧️ " * 3
)


async def test_preview_equals_what_each_webhook_receiver_gets(
    stack: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    kinds = ("x", "sms", "instagram", "web")
    async with stack.client("router") as router:
        for kind in kinds:
            endpoint = f"{receiver.base}/preview/{run}/{kind}"
            channel = {"region": "73.02", "kind": kind, "name": f"Bulukumba {kind}",
                       "endpoint": endpoint, "tags": [run]}  # fmt: skip
            r = await router.put(f"/v1/channels/preview-{kind}-{run}", json=channel)
            assert r.status_code == 201, r.text
    announcement = {
        "id": f"e2e-preview-{run}", "title": "Peringatan dini cuaca ekstrem", "body": BODY,
        "link": "https://bmkg.go.id/peringatan-dini", "hashtags": ["CuacaEkstrem", "Sulsel"],
        "target": {"regencies": ["73.02"], "tags": [run]},
    }  # fmt: skip
    async with stack.client("router") as router:
        r = await router.post("/v1/previews", json=announcement)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert (preview["channels"], preview["regions"]) == (4, 1)
    assert set(preview["by_kind"]) == set(kinds)
    assert preview["by_kind"]["x"]["truncated"] is True  # the body is longer than 280
    assert preview["by_kind"]["web"]["truncated"] is False
    assert {"code": "media_required", "kind": "instagram", "channels": 1, "skipped": 0} in (
        preview["warnings"]
    )

    async with stack.client("ingest") as ingest:
        r = await ingest.post("/v1/announcements", json=announcement)
    assert r.status_code == 202, r.text
    paths = {kind: f"/preview/{run}/{kind}" for kind in kinds}
    await eventually(
        lambda: all(receiver.at(path) for path in paths.values()), within=30, what="4 webhooks"
    )
    for kind, path in paths.items():
        [received] = receiver.at(path)
        assert received.json["data"]["text"] == preview["by_kind"][kind]["text"], kind
