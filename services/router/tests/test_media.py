"""Media travel from the announcement into every delivery task."""

from __future__ import annotations

from datetime import UTC, datetime

from siaran_router.planning import Rendered, plan_deliveries
from siaran_shared.events import Announcement, AnnouncementAccepted, Channel, Media, Target


def test_each_task_carries_the_announcements_media() -> None:
    photo = Media(url="https://cdn.example.go.id/a.jpg", type="image", alt="Posko")
    accepted = AnnouncementAccepted(
        announcement=Announcement(
            id="a1", title="t", body="b", target=Target(provinces=("73",)), media=(photo,)
        ),
        accepted_at=datetime(2026, 1, 1, tzinfo=UTC),
        submitted_by="k",
    )
    channel = Channel(id="c", region="73", kind="facebook", name="c", endpoint="https://x.test")
    [task] = plan_deliveries(
        accepted.announcement, accepted.accepted_at, [channel], {"facebook": Rendered("t", "b")}
    )
    assert task.media == (photo,)
