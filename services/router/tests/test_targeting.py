"""Targeting exactly as the contract says, checked against a per-channel oracle for every
combination of the six selectors and for random targets."""

from __future__ import annotations

import itertools
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from siaran_router.registry import Listed, Registry
from siaran_router.targeting import select_channels
from siaran_shared.events import Channel, Target
from siaran_shared.regions import NATIONAL, regions
from siaran_shared.store import Collection

KIND_TAGS = {"web": ("official",), "x": ("amplifier",), "telegram": ()}
ALL_CODES = (*regions().by_code, NATIONAL)


def _registry() -> Registry:
    registry = Registry(cast(Collection, None))  # the cache alone: no store needed
    for n, code in enumerate(ALL_CODES):
        for kind, tags in KIND_TAGS.items():
            channel = Channel(id=f"{code}-{kind}", region=code, kind=kind, name=code,
                              endpoint="https://example.go.id/hook", tags=tags,
                              enabled=not (kind == "telegram" and n % 5 == 0))  # fmt: skip
            registry.apply(channel, channel.id)
    return registry


REGISTRY = _registry()


def oracle(target: Target, channel: Listed) -> bool:
    """Whether one channel is selected, decided channel by channel (not region sets)."""
    if not channel.enabled:
        return False
    region = channel.region
    known = regions()
    national_channel = region == NATIONAL
    in_regions = (
        target.national
        or (not national_channel and known.province_of(region) in target.provinces)
        or region in target.regencies
        or (not national_channel and known.zone_of(region) in target.zones)
    )
    return (
        in_regions
        and (not target.kinds or channel.kind in target.kinds)
        and (not target.tags or bool(set(target.tags) & set(channel.tags)))
    )


def check(target: Target) -> list[Listed]:
    chosen = select_channels(target, REGISTRY)
    ids = [c.id for c in chosen]
    assert len(ids) == len(set(ids)), "a channel was selected twice"
    assert ids == sorted(ids)
    expected = sorted(c.id for c in REGISTRY.all() if oracle(target, c))
    assert ids == expected
    return chosen


SELECTORS: dict[str, Any] = {
    "national": True,
    "provinces": ("73", "11"),
    "regencies": ("73.03", "31.71"),  # 73.03 overlaps province 73: still once
    "zones": ("WIT",),
    "kinds": ("web", "x"),
    "tags": ("official",),
}


@pytest.mark.parametrize(
    "present",
    list(itertools.product((False, True), repeat=len(SELECTORS))),
    ids=lambda p: "+".join(n for n, on in zip(SELECTORS, p, strict=True) if on) or "empty",
)
def test_every_combination_of_the_six_selectors(present: tuple[bool, ...]) -> None:
    fields = {name: value for (name, value), on in zip(SELECTORS.items(), present, strict=True)
              if on}  # fmt: skip
    chosen = check(Target(**fields))
    selects_regions = any(fields.get(n) for n in ("national", "provinces", "regencies", "zones"))
    assert bool(chosen) == selects_regions
    if "kinds" in fields:
        assert {c.kind for c in chosen} <= {"web", "x"}
    if "tags" in fields:
        assert all("official" in c.tags for c in chosen)
    # the ministry's own web channel matches every kind and tag filter used here
    assert any(c.region == NATIONAL for c in chosen) == ("national" in fields)


def test_national_reaches_every_region_and_the_ministry_once_per_channel() -> None:
    chosen = check(Target(national=True))
    assert {c.region for c in chosen} == set(ALL_CODES)
    assert len(chosen) == sum(c.enabled for c in REGISTRY.all())


def test_province_includes_its_regencies_and_nothing_else() -> None:
    chosen = check(Target(provinces=("73",)))
    assert {c.region for c in chosen} == {"73", *regions().regencies_of("73")}


def test_zone_selects_its_regions_but_not_the_national_channels() -> None:
    chosen = check(Target(zones=("WITA",)))
    assert chosen
    assert all(regions().zone_of(c.region) == "WITA" for c in chosen)


def test_disabled_and_removed_channels_get_nothing() -> None:
    registry = Registry(cast(Collection, None))
    for channel_id, enabled in (("on", True), ("off", False), ("gone", True)):
        channel = Channel(id=channel_id, region="73.03", kind="web", name=channel_id,
                          endpoint="https://example.go.id/h", enabled=enabled)  # fmt: skip
        registry.apply(channel, channel_id)
    registry.apply(None, "gone")
    assert [c.id for c in select_channels(Target(regencies=("73.03",)), registry)] == ["on"]


def test_unknown_codes_select_nothing() -> None:
    assert check(Target(provinces=("99",), regencies=("99.99",))) == []


codes = st.sampled_from(sorted(regions().by_code))
province_codes = st.sampled_from((*regions().provinces, "99"))


@settings(max_examples=150, deadline=None)
@given(
    national=st.booleans(),
    provinces=st.lists(province_codes, max_size=4),
    regencies=st.lists(codes, max_size=6),
    zones=st.lists(st.sampled_from(("WIB", "WITA", "WIT")), max_size=2),
    kinds=st.lists(st.sampled_from(("web", "x", "telegram", "sms")), max_size=3),
    tags=st.lists(st.sampled_from(("official", "amplifier", "none")), max_size=2),
)
def test_random_targets_match_the_oracle(
    national: bool,
    provinces: list[str],
    regencies: list[str],
    zones: list[str],
    kinds: list[str],
    tags: list[str],
) -> None:
    check(
        Target(
            national=national,
            provinces=tuple(provinces),
            regencies=tuple(regencies),
            zones=tuple(zones),  # type: ignore[arg-type]
            kinds=tuple(kinds),
            tags=tuple(tags),
        )
    )


def test_the_registry_gives_back_each_channel_as_it_was_saved() -> None:
    registry = Registry(cast(Collection, None))
    saved = Channel(id="c", region="73.03", kind="telegram", name="Diskominfo Gowa",
                    endpoint="tgram://{secret:BOT}/-100", tags=("official", "amplifier"),
                    enabled=False, rate_per_minute=20, secret="HOOK")  # fmt: skip
    registry.apply(saved, "c")
    listed = registry.get("c")
    assert listed is not None
    assert listed.channel() == saved
    assert listed.channel().model_dump() == saved.model_dump()
    moved = saved.model_copy(update={"region": "73.04", "endpoint": "tgram://{secret:BOT}/-2"})
    registry.apply(moved, "c")
    assert [c.id for c in registry.in_regions(["73.03"])] == []
    assert [c.endpoint for c in registry.in_regions(["73.04"])] == [moved.endpoint]
