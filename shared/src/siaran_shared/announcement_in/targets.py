"""Which regions an announcement reaches, as submitted: official province and regency codes,
time zones or the whole nation, and which kinds and tags of their channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siaran_shared.announcement_in.fields import Label
from siaran_shared.regions import regions, select_regions


def _codes(which: str) -> Callable[[dict[str, Any]], None]:
    """The official province or regency codes, as the enum of a list's items in the OpenAPI
    (looked up when the schema is made, not at import)."""

    def add(schema: dict[str, Any]) -> None:
        known = regions()
        provinces = list(known.regencies_by_province)
        codes = (
            provinces
            if which == "provinces"
            else [c for c in known.by_code if c not in known.regencies_by_province]
        )
        schema["items"] = {"type": "string", "enum": codes}

    return add


def _selects_a_region(schema: dict[str, Any]) -> None:
    """The OpenAPI of a target: national, or at least one province, regency or zone."""
    schema["anyOf"] = [
        {"required": ["national"], "properties": {"national": {"const": True}}},
        *(
            {"required": [name], "properties": {name: {"minItems": 1}}}
            for name in ("provinces", "regencies", "zones")
        ),
    ]


class TargetIn(BaseModel):
    """Which regions to reach, and which of their channels."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_selects_a_region)

    national: bool = Field(False, description="Every province and regency, plus national channels.")
    provinces: list[str] = Field(
        [], max_length=38, examples=[["73"]], json_schema_extra=_codes("provinces")
    )
    regencies: list[str] = Field(
        [], max_length=514, examples=[["71.71"]], json_schema_extra=_codes("regencies")
    )
    zones: list[Literal["WIB", "WITA", "WIT"]] = Field([], max_length=3)
    kinds: list[Label] = Field([], max_length=32, examples=[["web", "x"]])
    tags: list[Label] = Field([], max_length=32, examples=[["official"]])

    @field_validator("provinces")
    @classmethod
    def _known_provinces(cls, codes: list[str]) -> list[str]:
        known = regions()
        bad = [c for c in codes if c not in known.regencies_by_province]
        if bad:
            raise ValueError(f"unknown province code(s) {', '.join(map(repr, bad))}")
        return codes

    @field_validator("regencies")
    @classmethod
    def _known_regencies(cls, codes: list[str]) -> list[str]:
        known = regions()
        bad = [c for c in codes if c not in known.by_code or c in known.regencies_by_province]
        if bad:
            raise ValueError(f"unknown regency code(s) {', '.join(map(repr, bad))}")
        return codes

    @model_validator(mode="after")
    def _selects_something(self) -> TargetIn:
        if not (self.national or self.provinces or self.regencies or self.zones):
            raise ValueError(
                "target selects no region: set national, provinces, regencies or zones"
            )
        return self

    def regions(self) -> frozenset[str]:
        """The region codes this target selects."""
        return select_regions(
            national=self.national,
            provinces=self.provinces,
            regencies=self.regencies,
            zones=self.zones,
        )
