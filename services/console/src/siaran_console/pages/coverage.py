"""Coverage: the regions and kinds with no channel, as a grid read at a glance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from siaran_shared.regions import NATIONAL, regions

from siaran_console.backends import ApiProblem
from siaran_console.scope import kinds_in, province_choices, regions_in
from siaran_console.sessions import Session
from siaran_console.tiles import percent, step
from siaran_console.web import backends_of, key_of, problem_page, render, signed_in

router = APIRouter()
SignedIn = Annotated[Session, Depends(signed_in)]


def coverage_grid(coverage: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Kinds (columns) and one row per province in reach: of its regions in reach (itself,
    its regencies and cities), how many have an active channel of each kind."""
    known = regions()
    covered: dict[str, dict[str, int]] = {
        code: region.get("kinds", {}) for code, region in coverage.get("regions", {}).items()
    }
    kinds = kinds_in(coverage)
    rows = []
    for province in province_choices(regions_in(coverage)):
        area = ((province.code,) if province.selectable else ()) + tuple(
            code for code, _ in province.regencies
        )
        cells = [
            {"kind": kind, "have": have, "of": len(area), "step": step(have, len(area)),
             "percent": percent(have, len(area))}
            for kind in kinds
            for have in [sum(1 for r in area if covered.get(r, {}).get(kind))]
        ]  # fmt: skip
        rows.append(
            {
                "code": province.code,
                "name": province.name,
                "zone": province.zone,
                "cells": cells,
                "without": [known.name_of(r) for r in area if r not in covered],
                "regions": len(area),
            }
        )
    return kinds, rows


def region_rows(coverage: dict[str, Any], kinds: list[str]) -> list[dict[str, Any]]:
    """Channels per kind of every region in reach, for a key that reaches one province:
    an officer sees which of their regencies and cities lack what."""
    provinces = province_choices(regions_in(coverage))
    if len(provinces) != 1:
        return []
    known = regions()
    covered = coverage.get("regions", {})
    province = provinces[0]
    area = ((province.code,) if province.selectable else ()) + tuple(
        code for code, _ in province.regencies
    )
    return [
        {
            "code": code,
            "name": known.name_of(code),
            "counts": [covered.get(code, {}).get("kinds", {}).get(kind, 0) for kind in kinds],
        }
        for code in area
    ]


@router.get("/coverage")
async def coverage_page(request: Request, session: SignedIn) -> Response:
    try:
        coverage = await backends_of(request).coverage(key_of(session))
    except ApiProblem as problem:
        return problem_page(request, problem)
    kinds, rows = coverage_grid(coverage)
    national = coverage.get("regions", {}).get(NATIONAL, {}).get("kinds", {})
    in_reach = NATIONAL in regions_in(coverage)
    return render(request, "coverage.html", coverage=coverage, kinds=kinds, rows=rows,
                  national=national, national_in_reach=in_reach,
                  regions=region_rows(coverage, kinds))  # fmt: skip
