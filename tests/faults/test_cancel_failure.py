"""A cancellation that fails half-way: a national announcement held for later is cancelled
while the router cannot write its store, and the router is killed before the store comes
back. The cancellation is consumed again after the restart and every planned delivery is
reported cancelled (lost = 0), none is posted."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Receiver, RunningStack, eventually
from tests.faults.helpers import fault_stack, register_national

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(240)]


async def announce_later(stack: RunningStack, tag: str) -> str:
    announcement_id = f"fault-{tag}-{uuid.uuid4().hex[:6]}"
    async with stack.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={
                "id": announcement_id,
                "title": "Uji pembatalan",
                "body": "Pengumuman nasional yang dibatalkan sebelum waktunya.",
                "target": {"national": True, "tags": [tag]},
                "publish_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
        )
        assert r.status_code == 202, r.text
    return announcement_id


def held(stack: RunningStack, announcement_id: str) -> bool:
    return any(
        "fanout_planned" in line and announcement_id in line
        for line in stack.log.read_text(errors="replace").splitlines()
    )


async def report(stack: RunningStack, announcement_id: str) -> dict[str, int]:
    async with stack.client("metrics") as metrics:
        r = await metrics.get(f"/v1/announcements/{announcement_id}/report")
    return r.json() if r.status_code == 200 else {}  # type: ignore[no-any-return]


async def test_cancel_failing_mid_way_is_done_again_after_a_restart(
    tmp_path: Path, receiver: Receiver, proof: Callable[..., None]
) -> None:
    home = tmp_path / "cancel"
    stack = await fault_stack(home)
    try:
        expected = await register_national(stack, receiver, "cancel")
        announcement_id = await announce_later(stack, "cancel")
        await eventually(
            lambda: held(stack, announcement_id),
            within=60,
            what="the router to hold the announcement's deliveries",
        )
        db = sqlite3.connect(home / "router.db", timeout=1, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")  # the router cannot write its store now
        try:
            async with stack.client("ingest") as ingest:
                r = await ingest.post(f"/v1/announcements/{announcement_id}/cancel")
            assert r.status_code == 202, r.text

            async def not_ready() -> bool:
                async with httpx.AsyncClient(timeout=15) as c:
                    r = await c.get(stack.url("router") + "/readyz")
                    return r.status_code == 503

            await eventually(not_ready, within=15, what="router reports its store unwritable")
            await stack.stack.services["router"].kill()
        finally:
            db.execute("ROLLBACK")
            db.close()
        await stack.stack.services["router"].start()
        await stack.stack.wait_ready(60, ("router",))

        async def all_cancelled() -> dict[str, int]:
            seen = await report(stack, announcement_id)
            return seen if seen.get("cancelled") == expected else {}

        final = await eventually(all_cancelled, within=90, what=f"{expected} cancelled")
        posted = [
            r for r in receiver.requests if announcement_id in r.headers.get("Idempotency-Key", "")
        ]
    finally:
        await stack.stop()
    proof(
        "faults: cancellation with the router's store unwritable, router killed",
        expected=expected,
        cancelled=final["cancelled"],
        lost=expected - final["cancelled"],
        posted=len(posted),
    )
    assert final["planned"] == expected
    assert posted == []
