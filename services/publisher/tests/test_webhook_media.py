"""Webhooks receive the announcement's media in `data.media`, an empty list when none."""

from __future__ import annotations

import json

from siaran_publisher.webhook import cloudevent_body
from siaran_shared.events import Media

from .conftest import task


def test_webhook_data_carries_media_and_an_empty_list_without() -> None:
    photo = Media(url="https://cdn.example.go.id/a.jpg", type="image", alt="Posko")
    with_media = json.loads(cloudevent_body(task("https://x.test", media=(photo,))))
    without = json.loads(cloudevent_body(task("https://x.test")))
    assert with_media["data"]["media"] == [
        {"url": "https://cdn.example.go.id/a.jpg", "type": "image", "alt": "Posko"}
    ]
    assert without["data"]["media"] == []
