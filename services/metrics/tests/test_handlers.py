"""Metrics handlers on FastStream's in-memory broker: ledger, reports, coverage, gauges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from siaran_metrics.app import create_app
from siaran_metrics.handlers import REGISTRY_RECOUNT
from siaran_metrics.registry import Registry
from siaran_shared import metric_names as m
from siaran_shared.events import (
    Channel,
    ChannelConfigured,
    ChannelHealth,
    ChannelHealthChanged,
    ChannelRemoved,
    DeliveryStatus,
    Event,
    Target,
)
from siaran_shared.events.topics import (
    ANNOUNCEMENTS,
    CHANNEL_HEALTH,
    CHANNELS,
    PLANS,
    RESULTS,
)
from siaran_shared.messaging import ce_headers
from siaran_shared.testing import ServiceUnderTest, service_under_test


@pytest.fixture
def reader() -> InMemoryMetricReader:
    """What the service under test records, apart from every other test's."""
    return InMemoryMetricReader()


@pytest.fixture
async def metrics(tmp_path: Path, reader: InMemoryMetricReader) -> AsyncIterator[ServiceUnderTest]:
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    async with service_under_test(lambda s: create_app(s, meter=meter), tmp_path) as sut:
        yield sut


def points(reader: InMemoryMetricReader, name: str) -> dict[frozenset[tuple[str, Any]], float]:
    """The current value of each series of an instrument, by its labels."""
    data = reader.get_metrics_data()
    found: dict[frozenset[tuple[str, Any]], float] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[frozenset((point.attributes or {}).items())] = point.value  # type: ignore[union-attr]
    return found


def labels(**values: str) -> frozenset[tuple[str, Any]]:
    return frozenset(values.items())


def client(sut: ServiceUnderTest) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sut.app),
        base_url="http://metrics",
        headers={"Authorization": f"Bearer {sut.admin_key}"},
    )


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


async def channel(sut: ServiceUnderTest, channel_id: str, region: str, kind: str) -> None:
    c = Channel(id=channel_id, region=region, kind=kind, name=channel_id,
                endpoint=f"https://example.go.id/{channel_id}")  # fmt: skip
    await send(sut, CHANNELS, ChannelConfigured(channel=c), channel_id)


async def test_report_and_recent_list_over_the_broker(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await send(metrics, ANNOUNCEMENTS, make.accepted("h1"), "h1")
    for channel_id in ("bantaeng-web", "makassar-web"):
        await send(metrics, PLANS, make.plan(make.planned(channel_id, "h1")), "h1")
    await send(metrics, RESULTS, make.outcome("bantaeng-web", announcement_id="h1"), "h1")
    async with client(metrics) as c:
        r = await c.get("/v1/announcements/h1/report")
        assert r.status_code == 200, r.text
        assert (r.json()["delivered"], r.json()["pending"]) == (1, 1)
        r = await c.get("/v1/announcements", params={"since": "2000-01-01T00:00:00Z"})
        assert r.status_code == 200, r.text
        [item] = [i for i in r.json()["items"] if i["id"] == "h1"]
        assert (item["planned"], item["delivered"], item["pending"]) == (2, 1, 1)
        r = await c.get("/v1/announcements/nope/report")
        assert r.status_code == 404
        assert "nope" in r.json()["error"]["message"]


async def test_report_needs_a_key(metrics: ServiceUnderTest, make: SimpleNamespace) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metrics.app), base_url="http://metrics"
    ) as c:
        assert (await c.get("/v1/announcements/h1/report")).status_code == 401


@pytest.mark.parametrize(
    "since",
    ["yesterday", "2000-01-01", "2000-01-01T00:00:00", "946684800", "2000-01-01T00:00Z"],
)
async def test_since_outside_its_schema_is_a_422_naming_the_field(
    metrics: ServiceUnderTest, since: str
) -> None:
    """The OpenAPI says RFC 3339 date-time (offset required): nothing else is taken."""
    async with client(metrics) as c:
        r = await c.get("/v1/announcements", params={"since": since})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "query.since"


async def test_since_takes_any_offset(metrics: ServiceUnderTest, make: SimpleNamespace) -> None:
    await send(metrics, ANNOUNCEMENTS, make.accepted("s1"), "s1")
    async with client(metrics) as c:
        r = await c.get("/v1/announcements", params={"since": "2000-01-01T07:00:00+07:00"})
    assert r.status_code == 200, r.text
    assert r.json()["since"] == "2000-01-01T00:00:00+00:00"
    assert [i["id"] for i in r.json()["items"]] == ["s1"]


def targeting(make: SimpleNamespace, announcement_id: str, target: Target) -> Event:
    event = make.accepted(announcement_id)
    announcement = event.announcement.model_copy(update={"target": target})
    return event.model_copy(update={"announcement": announcement})  # type: ignore[no-any-return]


async def test_the_recent_list_filters_by_the_region_a_target_reaches(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    targets = {
        "sulsel": Target(provinces=("73",)),
        "bantaeng": Target(regencies=("73.03",)),
        "jakarta": Target(provinces=("31",)),
        "national": Target(national=True),
    }
    for announcement_id, target in targets.items():
        await send(metrics, ANNOUNCEMENTS, targeting(make, announcement_id, target),
                   announcement_id)  # fmt: skip
    since = "2000-01-01T00:00:00Z"
    listed = {}
    async with client(metrics) as c:
        for region in ("73", "73.03", "73.01", "31", "ID"):
            r = await c.get("/v1/announcements", params={"since": since, "region": region})
            assert r.status_code == 200, r.text
            listed[region] = {i["id"] for i in r.json()["items"]}
        r = await c.get("/v1/announcements", params={"since": since, "region": "99"})
    assert listed == {
        "73": {"sulsel", "bantaeng", "national"},  # a province: its regencies' too
        "73.03": {"sulsel", "bantaeng", "national"},
        "73.01": {"sulsel", "national"},
        "31": {"jakarta", "national"},
        "ID": {"national"},
    }
    assert r.status_code == 422, r.text
    [detail] = r.json()["error"]["details"]
    assert detail["field"] == "query.region"
    assert "unknown region '99'" in detail["message"]


async def test_coverage_shows_channels_blank_regions_and_reconnects(
    metrics: ServiceUnderTest, make: SimpleNamespace
) -> None:
    await channel(metrics, "bantaeng-web", "73.03", "web")
    await channel(metrics, "bantaeng-x", "73.03", "x")
    older = ChannelHealthChanged(channel_id="bantaeng-x", kind="x", province="73",
                                 state=ChannelHealth.NEEDS_RECONNECT, reason="401")  # fmt: skip
    newer_but_replayed_first = older.model_copy(
        update={"state": ChannelHealth.HEALTHY, "changed_at": older.changed_at.replace(year=2000)}
    )
    await send(metrics, CHANNEL_HEALTH, older, "bantaeng-x")
    await send(metrics, CHANNEL_HEALTH, newer_but_replayed_first, "bantaeng-x")
    await metrics.publish(CHANNEL_HEALTH, b"{broken", key="bantaeng-web")  # skipped, logged
    async with client(metrics) as c:
        r = await c.get("/v1/coverage")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["regions"]["73.03"]["kinds"] == {"web": 1, "x": 1}
    blank = {r["code"] for r in body["regions_without_channels"]}
    assert "73.01" in blank
    assert "73.03" not in blank
    assert body["needs_reconnect"] == [{"id": "bantaeng-x", "region": "73.03", "kind": "x"}]


async def test_delivery_metrics_counted_once_and_gauges_cover_every_province(
    metrics: ServiceUnderTest, make: SimpleNamespace, reader: InMemoryMetricReader
) -> None:
    await channel(metrics, "bantaeng-web", "73.03", "web")
    await channel(metrics, "national-x", "ID", "x")
    await send(metrics, PLANS, make.plan(make.planned("bantaeng-web", "g1")), "g1")
    await send(metrics, PLANS, make.plan(make.planned("makassar-web", "g1")), "g1")
    done = make.outcome("bantaeng-web", DeliveryStatus.DELIVERED, announcement_id="g1")
    for _ in range(3):  # replays
        await send(metrics, RESULTS, done, "g1")
    await metrics.app.state.handlers.refresh_gauges()

    delivered = labels(status="delivered", kind="web", province="73")
    assert points(reader, m.DELIVERIES) == {delivered: 1}
    active = points(reader, m.CHANNELS_ACTIVE)
    assert active[labels(province="73", kind="web")] == 1
    assert active[labels(province="ID", kind="x")] == 1
    assert active[labels(province="11", kind="web")] == 0
    assert len({dict(series)["province"] for series in active}) == 39
    assert points(reader, m.PENDING_DELIVERIES) == {frozenset(): 1}


async def test_channel_gauges_are_counted_again_after_a_change_or_a_minute(
    metrics: ServiceUnderTest, reader: InMemoryMetricReader
) -> None:
    handlers = metrics.app.state.handlers
    web, x = labels(province="73", kind="web"), labels(province="73", kind="x")
    await channel(metrics, "bantaeng-web", "73.03", "web")
    await handlers.refresh_gauges(now=1000.0)
    assert points(reader, m.CHANNELS_ACTIVE)[web] == 1

    # Another metrics instance sharing the store registers a channel: this one did not see it.
    elsewhere = Registry(metrics.app.state.runtime.store.collection("channels"),
                         metrics.app.state.runtime.store.collection("channel_health"))  # fmt: skip
    await elsewhere.configure(Channel(id="gowa-x", region="73.06", kind="x", name="gowa-x",
                                      endpoint="https://example.go.id/gowa-x"))  # fmt: skip
    await handlers.refresh_gauges(now=1030.0)
    assert points(reader, m.CHANNELS_ACTIVE).get(x, 0) == 0  # not counted again yet
    await handlers.refresh_gauges(now=1000.0 + REGISTRY_RECOUNT)
    assert points(reader, m.CHANNELS_ACTIVE)[x] == 1

    # A change this instance reads is counted at the next refresh.
    await channel(metrics, "maros-web", "73.09", "web")
    await handlers.refresh_gauges(now=1000.0 + REGISTRY_RECOUNT + 1)
    assert points(reader, m.CHANNELS_ACTIVE)[web] == 2


async def test_a_batch_of_channel_events_is_applied_in_order(metrics: ServiceUnderTest) -> None:
    """Configurations are stored together, but never across a removal of the same channel."""

    def raw(event: Event, key: str) -> SimpleNamespace:
        headers = [(k, v.encode()) for k, v in ce_headers(event, source="test").items()]
        return SimpleNamespace(topic=CHANNELS, partition=0, offset=0, timestamp=0,
                               key=key.encode(), value=event.model_dump_json().encode(),
                               headers=headers)  # fmt: skip

    def configured(channel_id: str, kind: str) -> SimpleNamespace:
        c = Channel(id=channel_id, region="73.03", kind=kind, name=channel_id,
                    endpoint=f"https://example.go.id/{channel_id}")  # fmt: skip
        return raw(ChannelConfigured(channel=c), channel_id)

    handlers = metrics.app.state.handlers
    await handlers.on_channels([
        configured("a", "web"), configured("b", "web"),
        raw(ChannelRemoved(channel_id="a"), "a"),
        configured("b", "x"), configured("c", "x"),
        raw(ChannelRemoved(channel_id="c"), "c"), configured("c", "telegram"),
    ])  # fmt: skip
    kinds = {c.id: c.kind for c in await handlers.registry.channels()}
    assert kinds == {"b": "x", "c": "telegram"}
