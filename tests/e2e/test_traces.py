"""One trace per announcement: the ingest request, the router's fan-out, the publisher's
webhook call and the metrics ledger all record spans under the same trace id."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.harness import Receiver, RunningStack, eventually, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def traced(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    home: Path = tmp_path_factory.mktemp("siaran-traces")
    running = await start_stack(home, {"SIARAN_TRACES_FILE": str(home / "spans.jsonl")})
    try:
        yield running
    finally:
        await running.stop()


def spans(stack: RunningStack) -> list[dict[str, Any]]:
    path = stack.stack.config.home / "spans.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line still being written
    return out


def service_of(span: dict[str, Any]) -> str:
    return str(span["resource"]["attributes"]["service.name"])


async def test_spans_of_one_announcement_share_one_trace_across_all_services(
    traced: RunningStack, receiver: Receiver
) -> None:
    run = uuid.uuid4().hex[:8]
    path = f"/hooks/traced-{run}"
    async with traced.client("router") as router:
        r = await router.put(
            f"/v1/channels/traced-{run}",
            json={"region": "73.03", "kind": "web", "name": "Bantaeng",
                  "endpoint": receiver.base + path},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    announcement_id = f"trace-{run}"
    async with traced.client("ingest") as ingest:
        r = await ingest.post(
            "/v1/announcements",
            json={"id": announcement_id, "title": "Jejak", "body": "Satu jejak",
                  "target": {"regencies": ["73.03"]}},
        )  # fmt: skip
        assert r.status_code == 202, r.text

    await eventually(lambda: receiver.at(path), within=30, what="webhook delivery")
    traceparent = receiver.at(path)[0].headers.get("traceparent")
    assert traceparent, "the webhook call carries no traceparent"
    trace_id = "0x" + traceparent.split("-")[1]

    def services_in_trace() -> set[str] | None:
        found = {service_of(s) for s in spans(traced) if s["context"]["trace_id"] == trace_id}
        return found if found >= {"ingest", "router", "publisher", "metrics"} else None

    try:
        await eventually(services_in_trace, within=30, what="spans from all four services")
    except AssertionError:
        seen = {(service_of(s), s["name"], s["context"]["trace_id"]) for s in spans(traced)}
        raise AssertionError(f"trace {trace_id}: spans seen {sorted(seen)[:60]}") from None

    in_trace = [s for s in spans(traced) if s["context"]["trace_id"] == trace_id]
    roots = [s for s in in_trace if s["parent_id"] is None]
    assert [(service_of(s), s["kind"]) for s in roots] == [("ingest", "SpanKind.SERVER")]
    assert any(service_of(s) == "publisher" and s["kind"] == "SpanKind.CLIENT" for s in in_trace), (
        "the webhook call is not in the announcement's trace"
    )
    ids = {s["context"]["span_id"] for s in in_trace}
    orphans = [(service_of(s), s["name"]) for s in in_trace if s["parent_id"] not in (None, *ids)]
    assert not orphans, f"spans whose parent is missing from the trace: {orphans}"

    # Logs written while the request span was current carry its trace id.
    plain_id = trace_id.removeprefix("0x")
    # (the log lines travel through each child's output pipe: give them a moment)
    await eventually(
        lambda: plain_id in traced.log.read_text(errors="replace"),
        within=30,
        what="a log line carrying the trace id",
    )
