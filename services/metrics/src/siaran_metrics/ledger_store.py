"""The ledger's repositories: the only place in metrics that speaks the store's language.
Records in, records out; each method is named after what it does to the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from siaran_shared.store import Collection

from siaran_metrics.records import AnnouncementRecord, DeliveryRecord, DeliveryState, Totals
from siaran_metrics.reports import Tally

#: Announcements read per page by `Announcements.recent`.
_PAGE = 200


#: Delivery records read at a time for a report or a completion.
TALLY_PAGE = 5000


@dataclass(frozen=True)
class DeliveryFilter:
    """Which of an announcement's deliveries to list (None: any)."""

    status: DeliveryState | None = None
    province: str | None = None
    region: str | None = None
    kind: str | None = None

    def where(self) -> dict[str, Any]:
        fields = {"status": self.status, "province": self.province, "region": self.region,
                  "kind": self.kind}  # fmt: skip
        return {f: str(v) for f, v in fields.items() if v is not None}


class Deliveries:
    """Every delivery the ledger has seen, by delivery id."""

    def __init__(self, docs: Collection) -> None:
        #: the collection underneath (fault tests make its writes fail)
        self.docs = docs

    async def get_many(self, delivery_ids: Sequence[str]) -> dict[str, DeliveryRecord]:
        found = await self.docs.get_many(delivery_ids)
        return {key: DeliveryRecord.model_validate(doc) for key, doc in found.items()}

    async def write(self, records: Iterable[DeliveryRecord]) -> None:
        """Create or replace these records, in one round trip."""
        await self.docs.put_many({r.delivery_id: r.document() for r in records})

    async def of_announcement(self, announcement_id: str) -> list[DeliveryRecord]:
        docs = await self.docs.find({"announcement_id": announcement_id})
        return [DeliveryRecord.model_validate(doc) for doc in docs]

    async def tally(self, announcement_id: str, *, page: int = TALLY_PAGE) -> Tally:
        """One pass over an announcement's deliveries, `page` records at a time (the
        records of a national announcement to every channel are never held at once)."""
        tally = Tally()
        after: str | None = None
        while True:
            records = await self.page(announcement_id, DeliveryFilter(), after, page)
            tally.add(records)
            if len(records) < page:
                return tally
            after = records[-1].delivery_id

    async def page(
        self, announcement_id: str, only: DeliveryFilter, after: str | None, limit: int
    ) -> list[DeliveryRecord]:
        """Up to `limit` of an announcement's deliveries matching `only`, in delivery id
        order, from the first after `after`."""
        where = {"announcement_id": announcement_id} | only.where()
        if after is not None:
            where["delivery_id"] = {"$gt": after}
        docs = await self.docs.find(where, order_by="delivery_id", limit=limit)
        return [DeliveryRecord.model_validate(doc) for doc in docs]

    async def count(self, announcement_id: str) -> Totals:
        """An announcement's totals, counted from its delivery records."""
        return Totals.of(await self.docs.count_by("status", {"announcement_id": announcement_id}))

    async def superseded(self, announcement_id: str) -> int:
        """An announcement's deliveries replaced by a later revision whose own plan has not
        arrived (counted pending)."""
        where = {"announcement_id": announcement_id, "status": DeliveryState.SUPERSEDED.value}
        return await self.docs.count(where)

    async def pending(self) -> int:
        """Planned deliveries with no final outcome yet, over the whole ledger."""
        return await self.docs.count({"status": DeliveryState.PENDING.value})


class Announcements:
    """Every announcement the ledger has seen, with its totals."""

    def __init__(self, docs: Collection) -> None:
        #: the collection underneath (fault tests make its writes fail)
        self.docs = docs

    async def get(self, announcement_id: str) -> AnnouncementRecord | None:
        doc = await self.docs.get(announcement_id)
        return AnnouncementRecord.model_validate(doc) if doc is not None else None

    async def get_many(self, announcement_ids: Sequence[str]) -> dict[str, AnnouncementRecord]:
        found = await self.docs.get_many(announcement_ids)
        return {key: AnnouncementRecord.model_validate(doc) for key, doc in found.items()}

    async def create(self, records: Iterable[AnnouncementRecord]) -> None:
        """Store new announcements (an id stored meanwhile is left as it is)."""
        await self.docs.insert_many({r.id: r.document() for r in records})

    async def describe(
        self, record: AnnouncementRecord, totals: Totals | None = None, *, reopen: bool = False
    ) -> None:
        """Rewrite what the announcement itself says (a replay, or a later revision: then
        `reopen`, its completion is awaited again), and its totals if given."""
        changes = record.described() | ({"totals": totals.model_dump()} if totals else {})
        await self.docs.update(record.id, changes | ({"awaiting": True} if reopen else {}))

    async def completed(self, announcement_id: str, revision: int) -> None:
        """This revision's completion is produced (unless a later one arrived meanwhile)."""
        await self.docs.update(
            announcement_id,
            {"completed_revision": revision, "awaiting": False},
            where={"revision": revision},
        )

    async def overdue(self, released: datetime, ended: datetime) -> list[str]:
        """Announcements awaiting completion that were released by `released`, or cancelled
        or expired by `ended`."""
        by_release, by_end = (
            t.astimezone(UTC).isoformat(timespec="microseconds") for t in (released, ended)
        )
        due = [
            {"release_by": {"$lte": by_release}},
            {"cancelled_at": {"$lte": by_end}},
            {"expires_at": {"$lte": by_end}},
        ]
        docs = await self.docs.find({"awaiting": True, "$or": due})
        return [doc["id"] for doc in docs]

    async def cancel(self, announcement_id: str, at: datetime) -> None:
        """Cancelled at `at` (a replay keeps the first time)."""
        await self.docs.update(announcement_id, {"cancelled": True})
        await self.docs.update(
            announcement_id, {"cancelled_at": at.isoformat()}, where={"cancelled_at": None}
        )

    async def add_to_totals(
        self, deltas: Mapping[str, Mapping[str, int]], settled: Iterable[str]
    ) -> set[str]:
        """In one write: add each announcement's deltas to its totals and mark it unsettled,
        and clear the mark of those `settled` (a mark added and cleared at once stays as it
        was). The announcements whose record exists (the others are not created)."""
        changes = {
            a: {f"totals.{field}": n for field, n in d.items()} | {"unsettled": 1}
            for a, d in deltas.items()
        }
        for a in settled:
            change = changes.setdefault(a, {})
            change["unsettled"] = change.get("unsettled", 0) - 1
            if not change["unsettled"]:
                del change["unsettled"]
        return await self.docs.increment_many({a: c for a, c in changes.items() if c})

    async def unsettled(self) -> list[str]:
        """Announcements whose totals may disagree with their deliveries."""
        return [doc["id"] for doc in await self.docs.find({"unsettled": {"$gt": 0}})]

    async def settle(self, announcement_id: str, totals: Totals) -> None:
        """Replace the totals with a recount and clear the mark."""
        await self.docs.update(announcement_id, {"totals": totals.model_dump(), "unsettled": 0})

    async def recent(
        self,
        since: str,
        limit: int,
        visible: Callable[[AnnouncementRecord], bool] = lambda _: True,
    ) -> list[AnnouncementRecord]:
        """The newest announcements accepted at or after `since` that are `visible`, at
        most `limit`; read in pages, so a reader who sees few still gets up to `limit`."""
        seen: set[str] = set()
        found: list[AnnouncementRecord] = []
        until: str | None = None
        while len(found) < limit:
            when = {"$gte": since} | ({"$lte": until} if until else {})
            page = await self.docs.find(
                {"accepted_at": when}, order_by="accepted_at", descending=True, limit=_PAGE
            )
            fresh = [doc for doc in page if doc["id"] not in seen]
            seen.update(doc["id"] for doc in fresh)
            records = (AnnouncementRecord.model_validate(doc) for doc in fresh)
            found.extend(r for r in records if visible(r))
            if len(page) < _PAGE or not fresh:
                break
            until = page[-1]["accepted_at"]  # inclusive: ties at the boundary are not lost
        return found[:limit]
