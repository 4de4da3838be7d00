"""How long each kind of stored record is kept once it is final, and the loop that prunes.

Each service declares its collections with an `Expiry` from `RetentionSettings.keep` (the kind
of record and the field that holds the time it became final); the store removes what is past
its age: MongoDB by a TTL index and every `prune`, SQLite by `prune`, which `prune_periodically`
runs for the service's lifetime. Records that are not final yet (no time in that field) stay.

The defaults are what an audit asks of a ministry's system: the delivery ledger and the
announcement archive (the proof of what was sent, to whom, when) for 400 days, the plans that
let a cancellation retract as long; the publisher's claims and the router's release batches
(working state whose only later use is to refuse a replayed task) for 14 days, longer than
Kafka keeps a replayable record by default (7 days). Keep them so: a claim pruned while its
task can still be replayed could post it again.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from siaran_shared.logging import get_logger
from siaran_shared.service import Runtime
from siaran_shared.store import Expiry, Store, StoreError

log = get_logger(__name__)

Kept = Literal["ledger", "archive", "plans", "claims", "batches", "dead_letters"]
#: The field a repository sets (an ISO-8601 time) when its record becomes final.
FINAL_FIELD = "final_at"


class RetentionSettings(BaseSettings):
    """Days each kind of record is kept after it became final (prefix SIARAN_RETENTION_)."""

    model_config = SettingsConfigDict(
        env_prefix="SIARAN_RETENTION_", env_file=".env", extra="ignore"
    )

    ledger_days: float = Field(
        400, gt=0, description="metrics: deliveries and announcements of the delivery ledger."
    )
    archive_days: float = Field(400, gt=0, description="ingest: the announcement archive.")
    plans_days: float = Field(
        400, gt=0, description="router: fan-out plans (what a cancellation retracts)."
    )
    claims_days: float = Field(
        14, gt=0, description="publisher: delivery claims (what refuses a replayed task)."
    )
    batches_days: float = Field(
        14, gt=0, description="router: release batches and their stored tasks."
    )
    dead_letters_days: float = Field(
        30, gt=0, description="metrics: dead letters kept for reading and replay, from receipt."
    )
    prune_interval_seconds: float = Field(
        3600, gt=0, description="How often expired records are removed."
    )

    def keep(self, kind: Kept, field: str = FINAL_FIELD) -> Expiry:
        """The expiry of records of `kind`, counted from the time in `field`."""
        days: float = getattr(self, f"{kind}_days")
        return Expiry(after=timedelta(days=days), field=field)


async def prune_periodically(store: Store, interval_seconds: float) -> None:
    """Remove expired records now and every `interval_seconds`, for as long as it runs; a
    store that cannot answer is tried again at the next round."""
    while True:
        try:
            removed = await store.prune()
        except StoreError as exc:
            log.warning("store_prune_failed", error=str(exc))
        else:
            if any(removed.values()):
                log.info("store_pruned", removed={k: v for k, v in removed.items() if v})
        await asyncio.sleep(interval_seconds)


def prune_in_background(runtime: Runtime) -> RetentionSettings:
    """Prune the service's store for its lifetime; the retention settings it read."""
    settings = RetentionSettings()
    loop = functools.partial(prune_periodically, runtime.store, settings.prune_interval_seconds)
    runtime.run_in_background("retention", loop)
    return settings
