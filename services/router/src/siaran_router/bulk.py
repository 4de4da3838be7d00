"""Bulk import of channels: every row validated first, the whole file applied or nothing.

A dry run answers the same diff without changing anything, so an operator sees what an
import would do; rows that equal the registry are left alone, which makes importing the
same file twice a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, ValidationError
from siaran_shared.events import Channel
from siaran_shared.http import validation_details

from siaran_router.channels import CHANNEL_ID_PATTERN, ChannelIn
from siaran_router.registry import Listed, Registry
from siaran_router.views import ImportSummary, ImportUpdate


class ChannelRow(ChannelIn):
    """One row of an import file: a channel and its id."""

    id: str = Field(pattern=CHANNEL_ID_PATTERN, description="Your id for the channel.")
    #: CSV files say true or false as text
    enabled: bool = True


@dataclass
class Plan:
    """What an import changes, or why it cannot."""

    created: list[Channel] = field(default_factory=list)
    updated: list[tuple[Channel, list[str]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> list[Channel]:
        return [*self.created, *(c for c, _ in self.updated)]

    def summary(self, *, dry_run: bool, total: int) -> ImportSummary:
        return ImportSummary(
            dry_run=dry_run,
            rows=total,
            created=[c.id for c in self.created],
            updated=[ImportUpdate(id=c.id, fields=f) for c, f in self.updated],
            unchanged=len(self.unchanged),
            removed=self.removed,
        )


def parse_rows(rows: Sequence[Any]) -> tuple[list[Channel], list[dict[str, Any]]]:
    """Validate every row; returns the channels and one error detail per bad field."""
    channels: list[Channel] = []
    errors: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for index, raw in enumerate(rows):
        where = {"row": index + 1, "channel_id": raw.get("id") if isinstance(raw, dict) else None}
        try:
            row = ChannelRow.model_validate(raw)
        except ValidationError as exc:
            for detail in validation_details(exc.errors()):
                path = detail["field"]
                field_path = f"channels[{index}]" + ("" if path == "body" else f".{path}")
                errors.append({**detail, "field": field_path, **where})
            continue
        if row.id in first_row:
            errors.append(
                {
                    "field": f"channels[{index}].id",
                    "message": f"duplicate id {row.id!r}: already on row {first_row[row.id]}",
                    "type": "duplicate",
                    **where,
                }
            )
            continue
        first_row[row.id] = index + 1
        channels.append(row.to_channel(row.id))
    return channels, errors


def plan_import(rows: Sequence[Any], registry: Registry, *, prune: bool = False) -> Plan:
    """The diff between the rows and the registry (errors instead, if any row is bad)."""
    channels, errors = parse_rows(rows)
    plan = Plan(errors=errors)
    if errors:
        return plan
    for channel in channels:
        existing = registry.get(channel.id)
        if existing is None:
            plan.created.append(channel)
        elif existing == Listed.of(channel):
            plan.unchanged.append(channel.id)
        else:
            fields = [
                name
                for name in Channel.model_fields
                if getattr(existing, name) != getattr(channel, name)
            ]
            plan.updated.append((channel, fields))
    if prune:
        keep = {c.id for c in channels}
        plan.removed = [c.id for c in registry.all() if c.id not in keep]
    return plan
