from __future__ import annotations

from siaran_shared.regions import NATIONAL, regions, select_regions


def test_official_counts_and_lookups() -> None:
    r = regions()
    assert len(r.provinces) == 38
    assert len(r.regencies) == 514
    assert r.province_of("73.03") == "73"
    assert r.name_of("73.03") == "Kabupaten Bantaeng"
    assert r.zone_of("73.03") == "WITA"
    assert r.zone_of("31.71") == "WIB"
    assert r.province_of(NATIONAL) == NATIONAL
    assert "73.03" in r.regencies_of("73")


def test_every_region_has_a_zone() -> None:
    r = regions()
    zones = {r.zone_of(c) for c in r.by_code}
    assert zones == {"WIB", "WITA", "WIT"}
    total = sum(len(r.in_zone(z)) for z in ("WIB", "WITA", "WIT"))
    assert total == 38 + 514


def test_selection_is_the_union_of_selectors() -> None:
    assert select_regions(national=True) == frozenset((*regions().by_code, NATIONAL))
    province = select_regions(provinces=["73"])
    assert {"73", "73.03"} <= province
    assert "31.71" not in province
    mixed = select_regions(provinces=["73"], regencies=["31.71"])
    assert mixed == province | {"31.71"}
    wit = select_regions(zones=["WIT"])
    assert all(regions().zone_of(c) == "WIT" for c in wit)
    assert select_regions(regencies=["99.99"]) == frozenset()
