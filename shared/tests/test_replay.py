"""A replay carries the original headers: every dead-letter header dropped, a replay stamp."""

from __future__ import annotations

from siaran_shared.messaging import Replay, replay_headers


def test_replay_headers_drop_what_dead_lettering_added_and_stamp_the_replay() -> None:
    headers = [
        ("ce_type", b"id.siaran.delivery.planned.v1"),
        ("x-dup", b"1"),
        ("x-dup", b"2"),
        ("siaran-error", b"delivery_failed: 500"),
        ("siaran-origin-topic", b"siaran.deliveries.v1"),
        ("siaran-origin-offset", b"4"),
        ("siaran-dead-lettered-by", b"siaran/publisher"),
        ("siaran-replayed-at", b"2026-01-01T00:00:00+00:00"),
    ]
    replayed = replay_headers(headers)
    assert replayed[:3] == [("ce_type", b"id.siaran.delivery.planned.v1"), ("x-dup", b"1"),
                            ("x-dup", b"2")]  # fmt: skip
    [(name, stamp)] = replayed[3:]
    assert name == "siaran-replayed-at"
    assert stamp != b"2026-01-01T00:00:00+00:00"
    replay = Replay.of("siaran.deliveries.v1", b"k", b"v", headers)
    assert (replay.topic, replay.key, replay.value) == ("siaran.deliveries.v1", b"k", b"v")
    assert replay.headers[:3] == replayed[:3]
