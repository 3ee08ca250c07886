"""Pricing ingestion store (``PricingRepository``, application/ports/pricing.py).

Single rows (a report, a pool, an on-demand price or observation) are models of the session; the submissions and
the pool catalogue upserts are bulk paths (``bulk``). Entities of bulk reads are detached: callers write explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select, true, update
from sqlalchemy.dialects import mysql, sqlite

from spotopt.adapters.persistence.mappers.pricing import (
    ONDEMAND_OBSERVATIONS,
    ONDEMAND_PRICES,
    POOLS,
    REPORTS,
    SUBMISSIONS,
)
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import SystemEventModel
from spotopt.adapters.persistence.models.pricing import OnDemandPriceModel, PricingSubmissionModel, SpotPoolModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository
from spotopt.adapters.persistence.repositories.bulk import chunks, rows, upsert
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool


class SqlAlchemyPricingRepository(SqlAlchemyRepository[SpotPool, SpotPoolModel]):
    mapper = POOLS

    async def add_report(self, report: PricingReport) -> None:
        self._session.add(REPORTS.to_model(report))

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        """MD-1 in two statements: the ids already stored are skipped, the rest go in one multi-row insert.

        Counting before inserting keeps the count exact on MySQL, where a no-op duplicate reports one row
        affected (``CLIENT_FOUND_ROWS``); a concurrent insert of the same id is still ignored, not an error.
        """
        unique = {s.submission_id: s for s in reversed(submissions)}
        s = PricingSubmissionModel
        stored: set[str] = set()
        for chunk in chunks(sorted(unique)):
            found = await self._db.execute(select(s.submission_id).where(s.submission_id.in_(chunk)))
            stored.update(found.scalars())
        fresh = [entity for i, entity in unique.items() if i not in stored]
        await upsert(self._db, table_of(s), rows(SUBMISSIONS, fresh), replace=False)
        return len(fresh)

    async def get_pool(self, pool_id: str) -> SpotPool | None:
        return await self._one(select(SpotPoolModel).where(SpotPoolModel.pool_id == pool_id))

    async def add_pool(self, pool: SpotPool) -> None:
        self._db.add(POOLS, pool)

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]:
        p = SpotPoolModel
        return await self._list(p.instance_type == instance_type, p.region == region, order_by=[p.pool_id.asc()])

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None:
        o = OnDemandPriceModel
        found: OnDemandPrice | None = await self._db.one(
            ONDEMAND_PRICES, select(o).where(o.instance_type == instance_type, o.region == region)
        )
        return found

    async def add_ondemand(self, price: OnDemandPrice) -> None:
        self._db.add(ONDEMAND_PRICES, price)

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        # No lock before the row exists: a locking read of a missing key takes a gap lock, and two first reports
        # inserting into the same gap deadlock. An atomic insert-if-absent, then the row lock, cannot.
        o = OnDemandPriceModel
        key = (o.instance_type == initial.instance_type, o.region == initial.region)
        if not (await self._db.execute(select(exists().where(*key)))).scalar():
            await self._db.execute(self._insert_if_absent(initial))
        row: OnDemandPrice | None = await self._db.locked(ONDEMAND_PRICES, select(o).where(*key).with_for_update())
        if row is None:  # pragma: no cover - the row was just inserted or already existed
            raise LookupError("on-demand catalogue row vanished")
        return row

    def _insert_if_absent(self, price: OnDemandPrice) -> Any:
        """One atomic statement that inserts the row unless its key exists (no error, no lock upgrade)."""
        table = table_of(OnDemandPriceModel)
        (values,) = rows(ONDEMAND_PRICES, [price])
        if self._session.get_bind().dialect.name == "sqlite":
            return sqlite.insert(table).values(**values).on_conflict_do_nothing()
        stmt = mysql.insert(table).values(**values)
        return stmt.on_duplicate_key_update({"instance_type": stmt.inserted["instance_type"]})

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None:
        self._session.add(ONDEMAND_OBSERVATIONS.to_model(observation))

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        unique = {p.pool_id: p for p in reversed(pools)}
        if not unique:
            return
        ids = sorted(unique)
        p = SpotPoolModel
        # Sorted ids: concurrent reports lock the shared catalogue rows in one order (no deadlock cycles).
        await upsert(self._db, table_of(p), rows(POOLS, [unique[i] for i in ids]), replace=False)
        for chunk in chunks(ids):
            stmt = update(p).where(p.pool_id.in_(chunk), p.last_seen_at < seen_at).values(last_seen_at=seen_at)
            await self._db.execute(stmt.execution_options(synchronize_session=False))

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        p = SpotPoolModel
        return await self._detached(POOLS, select(p).where(p.last_seen_at >= since).order_by(p.pool_id))

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        s = PricingSubmissionModel
        pending = [s.processed_at.is_(None), s.is_valid == true(), s.spot_price.is_not(None)]
        if received_since is not None:
            pending.append(s.received_at >= received_since)
        ids_stmt = select(s.submission_id).where(*pending).order_by(s.received_at, s.submission_id).limit(limit)
        ids = list((await self._db.execute(ids_stmt)).scalars())
        found: list[PricingSubmission] = []
        # Locking by primary key (not the index range) keeps concurrent ingestion inserts unblocked.
        for chunk in chunks(ids):
            stmt = select(s).where(s.submission_id.in_(chunk), s.processed_at.is_(None))
            found += await self._detached(SUBMISSIONS, stmt.with_for_update(skip_locked=True))
        return sorted(found, key=lambda x: (x.received_at, x.submission_id))

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        s = PricingSubmissionModel
        groups: dict[tuple[datetime | None, str | None], list[str]] = defaultdict(list)
        for sub in submissions:
            groups[(sub.processed_at, sub.outcome)].append(sub.submission_id)
        for (processed_at, outcome), ids in groups.items():
            for chunk in chunks(sorted(ids)):
                stmt = update(s).where(s.submission_id.in_(chunk)).values(processed_at=processed_at, outcome=outcome)
                await self._db.execute(stmt.execution_options(synchronize_session=False))

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        wanted = set(pairs)
        o = OnDemandPriceModel
        types, regions = sorted({p[0] for p in wanted}), sorted({p[1] for p in wanted})
        found: dict[tuple[str, str], OnDemandPrice] = {}
        for chunk in chunks(types):
            stmt = select(o).where(o.instance_type.in_(chunk), o.region.in_(regions))
            prices = await self._detached(ONDEMAND_PRICES, stmt)
            found.update(((p.instance_type, p.region), p) for p in prices if (p.instance_type, p.region) in wanted)
        return found

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        o = ONDEMAND_OBSERVATIONS.model
        valid = select(o).where(o.instance_type == instance_type, o.region == region, o.is_valid == true())
        before = valid.where(o.observed_at < start).order_by(o.observed_at.desc()).limit(1)
        within = valid.where(o.observed_at >= start, o.observed_at <= end).order_by(o.observed_at)
        mapper = ONDEMAND_OBSERVATIONS
        return [*await self._detached(mapper, before), *await self._detached(mapper, within)]

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        e = SystemEventModel
        key = e.event_metadata["dedup_key"].as_string()
        found: set[str] = set()
        for chunk in chunks(sorted(set(dedup_keys))):
            stmt = select(key).where(e.type == event_type, e.created_at >= since, key.in_(chunk))
            found.update(k for k in (await self._db.execute(stmt)).scalars() if k is not None)
        return found

    async def _detached(self, mapper: Any, stmt: Select[Any]) -> list[Any]:
        return await self._db.detached(mapper, stmt)
