"""GET /v1/announcements/{id}/deliveries against every scope and kind of target: a key lists
exactly the deliveries of its own regions, is refused an announcement that targets none of
them, and a `province` filter cannot widen what it sees."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from siaran_metrics.app import create_app as create_metrics
from siaran_shared.auth import Scope
from siaran_shared.events import (
    Announcement,
    AnnouncementAccepted,
    DeliveriesPlanned,
    DeliveryPlanned,
    Event,
    Target,
    utcnow,
)
from siaran_shared.events.topics import ANNOUNCEMENTS, PLANS
from siaran_shared.messaging import ce_headers
from siaran_shared.regions import NATIONAL, regions, target_regions
from siaran_shared.testing import ServiceUnderTest, service_under_test

from tests.security.conftest import client, key_for

SCOPES = ["national", "admin", "province:73", "province:31", "regency:73.03", "regency:31.71"]
TARGETS = [
    Target(national=True),
    Target(provinces=("73",)),
    Target(provinces=("73", "31")),
    Target(regencies=("73.04",)),
    Target(regencies=("73.03", "31.71")),
]
#: Regions with a channel: each announcement is planned to those it targets.
CHANNEL_REGIONS = ("73", "73.03", "73.04", "31", "31.71", NATIONAL)


@pytest.fixture
async def metrics(tmp_path: Path) -> AsyncIterator[ServiceUnderTest]:
    async with service_under_test(create_metrics, tmp_path) as sut:
        yield sut


async def send(sut: ServiceUnderTest, topic: str, event: Event, key: str) -> None:
    headers = ce_headers(event, source="test")
    await sut.publish(topic, event.model_dump_json().encode(), key=key, headers=headers)


async def plant(sut: ServiceUnderTest, announcement_id: str, target: Target) -> set[str]:
    """The announcement and a delivery to each channel region it targets; those regions."""
    accepted = AnnouncementAccepted(
        announcement=Announcement(id=announcement_id, title="T", body="B", target=target),
        submitted_by="ministry",
    )
    await send(sut, ANNOUNCEMENTS, accepted, announcement_id)
    targeted = target_regions(target)
    planted = {r for r in CHANNEL_REGIONS if r in targeted}
    for region in planted:
        province = region if region == NATIONAL else regions().province_of(region)
        task = DeliveryPlanned(
            delivery_id=f"{announcement_id}:web-{region}", announcement_id=announcement_id,
            channel_id=f"web-{region}", region=region, province=province, kind="web",
            endpoint="https://example.go.id/hook", title="T", text="B", accepted_at=utcnow(),
        )  # fmt: skip
        (summary,) = DeliveriesPlanned.of([task])
        await send(sut, PLANS, summary, announcement_id)
    return planted


def expected(
    scope: Scope, target: Target, planted: set[str], province: str | None
) -> set[str] | None:
    """The rule, stated independently: the regions listed, or None for a 403 (the target
    has no region inside the scope, or the province asked for lies outside it)."""
    if not any(scope.covers(r) for r in target_regions(target)):
        return None
    if (
        province
        and not scope.is_national
        and not any(scope.covers(r) for r in CHANNEL_REGIONS if _province(r) == province)
    ):
        return None
    return {r for r in planted if scope.covers(r) and province in (None, _province(r))}


def _province(region: str) -> str:
    return region if region == NATIONAL else regions().province_of(region)


async def test_deliveries_are_listed_inside_the_scope_only(
    metrics: ServiceUnderTest, proof: Callable[..., None]
) -> None:
    planted = [await plant(metrics, f"d-{i}", t) for i, t in enumerate(TARGETS)]
    bypasses: list[str] = []
    wrong: list[str] = []
    cases = 0
    for scope in SCOPES:
        parsed = Scope.parse(scope)
        async with client(metrics, key_for(metrics, scope)) as c:
            for (i, target), province in itertools.product(
                enumerate(TARGETS), (None, "73", "31", NATIONAL)
            ):
                cases += 1
                params = {"province": province} if province else {}
                r = await c.get(f"/v1/announcements/d-{i}/deliveries", params=params)
                assert r.status_code in (200, 403), (scope, i, r.text)
                listed = {item["region"] for item in r.json().get("items", [])}
                bypasses += [f"{scope} lists d-{i} in {g}" for g in listed if not parsed.covers(g)]
                want = expected(parsed, target, planted[i], province)
                if (r.status_code == 403) != (want is None) or (
                    want is not None and listed != want
                ):
                    wrong.append(f"{scope} d-{i} province={province}: {r.status_code} {listed}")
    proof(
        "security: per-delivery list x scope matrix",
        cases=cases,
        bypasses=len(bypasses),
        wrongly_refused=len(wrong),
    )
    assert bypasses == []
    assert wrong == []
