"""SQL side of the pricing pipeline's bulk work (aggregator, gap filler, ingestion catalogue upserts).

Every bulk read or write is a handful of set-based statements (``IN`` lists in chunks, multi-row upserts), never
one query per bucket. Entities returned here are detached from the change tracker; callers write explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, Table, select, true, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence import repositories as base
from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.mapper import to_domain, to_row
from spotopt.domain.pricing.buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingSubmission, SpotPool

E = TypeVar("E")
_IN_CHUNK = 500
_ROW_CHUNK = 1000


def _chunks(items: Sequence[E], size: int = _IN_CHUNK) -> Iterator[Sequence[E]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def upsert(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *, replace: bool) -> None:
    """Multi-row insert by primary key: ``replace`` overwrites the other columns of an existing row, else the
    existing row is left exactly as it is.
    """
    pk = [c.name for c in table.primary_key.columns]
    others = [c.name for c in table.columns if c.name not in pk]
    mysql_like = session.get_bind().dialect.name in {"mysql", "mariadb"}
    for chunk in _chunks(rows, _ROW_CHUNK):
        if mysql_like:
            my = mysql.insert(table)
            kept = {pk[0]: my.inserted[pk[0]]}  # a no-op update: the key column keeps its own value
            stmt: Any = my.on_duplicate_key_update({n: my.inserted[n] for n in others} if replace else kept)
        else:
            lite = sqlite.insert(table)
            stmt = (
                lite.on_conflict_do_update(index_elements=pk, set_={n: lite.excluded[n] for n in others})
                if replace
                else lite.on_conflict_do_nothing(index_elements=pk)
            )
        await session.execute(stmt, list(chunk))


async def detached(session: AsyncSession, entity: type[E], stmt: Select[Any]) -> list[E]:
    """Entities built from the rows, not tracked: the caller writes changes explicitly."""
    return [to_domain(entity, row) for row in (await session.execute(stmt)).mappings().all()]


class SqlAlchemyPricingRepository(base.SqlAlchemyPricingRepository):
    async def _detached(self, entity: type[E], stmt: Select[Any]) -> list[E]:
        return await detached(self._session, entity, stmt)

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        """MD-1 in two statements: the ids already stored are skipped, the rest go in one multi-row insert.

        Counting before inserting keeps the count exact on MySQL, where a no-op duplicate reports one row
        affected (``CLIENT_FOUND_ROWS``); a concurrent insert of the same id is still ignored, not an error.
        """
        unique = {s.submission_id: s for s in reversed(submissions)}
        c = t.pricing_submissions.c
        stored: set[str] = set()
        for chunk in _chunks(sorted(unique)):
            stored.update(
                (await self._session.execute(select(c.submission_id).where(c.submission_id.in_(chunk)))).scalars()
            )
        fresh = [to_row(s) for i, s in unique.items() if i not in stored]
        await upsert(self._session, t.pricing_submissions, fresh, replace=False)
        return len(fresh)

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        unique = {p.pool_id: p for p in reversed(pools)}
        if not unique:
            return
        ids = sorted(unique)
        # Sorted ids: concurrent reports lock the shared catalogue rows in one order (no deadlock cycles).
        await upsert(self._session, t.spot_pools, [to_row(unique[i]) for i in ids], replace=False)
        c = t.spot_pools.c
        for chunk in _chunks(ids):
            stmt = update(t.spot_pools).where(c.pool_id.in_(chunk), c.last_seen_at < seen_at)
            await self._session.execute(stmt.values(last_seen_at=seen_at))

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        c = t.spot_pools.c
        return await self._detached(SpotPool, select(t.spot_pools).where(c.last_seen_at >= since).order_by(c.pool_id))

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        c = t.pricing_submissions.c
        pending = [c.processed_at.is_(None), c.is_valid == true(), c.spot_price.is_not(None)]
        if received_since is not None:
            pending.append(c.received_at >= received_since)
        ids_stmt = select(c.submission_id).where(*pending).order_by(c.received_at, c.submission_id).limit(limit)
        ids = list((await self._session.execute(ids_stmt)).scalars())
        found: list[PricingSubmission] = []
        # Locking by primary key (not the index range) keeps concurrent ingestion inserts unblocked.
        for chunk in _chunks(ids):
            stmt = select(t.pricing_submissions).where(c.submission_id.in_(chunk), c.processed_at.is_(None))
            found += await self._detached(PricingSubmission, stmt.with_for_update(skip_locked=True))
        return sorted(found, key=lambda s: (s.received_at, s.submission_id))

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        c = t.pricing_submissions.c
        groups: dict[tuple[datetime | None, str | None], list[str]] = defaultdict(list)
        for s in submissions:
            groups[(s.processed_at, s.outcome)].append(s.submission_id)
        for (processed_at, outcome), ids in groups.items():
            for chunk in _chunks(sorted(ids)):
                stmt = update(t.pricing_submissions).where(c.submission_id.in_(chunk))
                await self._session.execute(stmt.values(processed_at=processed_at, outcome=outcome))

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        wanted = set(pairs)
        c = t.ondemand_prices.c
        types, regions = sorted({p[0] for p in wanted}), sorted({p[1] for p in wanted})
        found: dict[tuple[str, str], OnDemandPrice] = {}
        for chunk in _chunks(types):
            stmt = select(t.ondemand_prices).where(c.instance_type.in_(chunk), c.region.in_(regions))
            prices = await self._detached(OnDemandPrice, stmt)
            found.update(((p.instance_type, p.region), p) for p in prices if (p.instance_type, p.region) in wanted)
        return found

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        c = t.ondemand_observations.c
        valid = select(t.ondemand_observations).where(
            c.instance_type == instance_type, c.region == region, c.is_valid == true()
        )
        before = valid.where(c.observed_at < start).order_by(c.observed_at.desc()).limit(1)
        within = valid.where(c.observed_at >= start, c.observed_at <= end).order_by(c.observed_at)
        return [*await self._detached(OnDemandObservation, before), *await self._detached(OnDemandObservation, within)]

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        c = t.system_events.c
        key = c["metadata"]["dedup_key"].as_string()
        found: set[str] = set()
        for chunk in _chunks(sorted(set(dedup_keys))):
            stmt = select(key).where(c.type == event_type, c.created_at >= since, key.in_(chunk))
            found.update(k for k in (await self._session.execute(stmt)).scalars() if k is not None)
        return found


class SqlAlchemyPriceBucketRepository(base.SqlAlchemyPriceBucketRepository):
    async def _buckets(self, stmt: Select[Any]) -> list[CleanPriceBucket]:
        return await detached(self._session, CleanPriceBucket, stmt)

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        wanted = set(keys)
        c = t.price_buckets.c
        pools, starts = sorted({k[0] for k in wanted}), sorted({k[1] for k in wanted})
        found: dict[BucketKey, CleanPriceBucket] = {}
        # (pool IN …) × (start IN …) over-fetches at most the other stored keys of the same pools and starts.
        for pool_chunk in _chunks(pools):
            for start_chunk in _chunks(starts):
                stmt = select(t.price_buckets).where(c.pool_id.in_(pool_chunk), c.bucket_start.in_(start_chunk))
                found.update((b.key, b) for b in await self._buckets(stmt) if b.key in wanted)
        return found

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        c = t.price_buckets.c
        found: list[CleanPriceBucket] = []
        for chunk in _chunks(sorted(set(pool_ids))):
            stmt = select(t.price_buckets).where(c.pool_id.in_(chunk), c.bucket_start >= start, c.bucket_start < end)
            found += await self._buckets(stmt.order_by(c.pool_id, c.bucket_start))
        return found

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        c = t.price_buckets.c
        found: list[CleanPriceBucket] = []
        for chunk in _chunks(sorted(set(fill_ids))):
            found += await self._buckets(select(t.price_buckets).where(c.fill_id.in_(chunk)))
        return found

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        await upsert(self._session, t.price_buckets, [to_row(b) for b in buckets], replace=True)

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        if not buckets:
            return set()
        await upsert(self._session, t.price_buckets, [to_row(b) for b in buckets], replace=False)
        # Fill ids are fresh per run: a stored bucket carrying ours is one this call inserted.
        stored = await self.get_many([b.key for b in buckets])
        return {b.key for b in buckets if b.key in stored and stored[b.key].fill_id == b.fill_id}

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        c = t.price_buckets.c
        starts_by_pool: dict[str, list[datetime]] = defaultdict(list)
        for b in buckets:
            starts_by_pool[b.pool_id].append(b.bucket_start)
        for pool_id, starts in sorted(starts_by_pool.items()):
            for chunk in _chunks(sorted(starts)):
                stmt = t.price_buckets.delete().where(c.pool_id == pool_id, c.bucket_start.in_(chunk))
                await self._session.execute(stmt)

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        c = t.interpolation_records.c
        found: list[InterpolationRecord] = []
        for chunk in _chunks(sorted(set(fill_ids))):
            stmt = select(t.interpolation_records).where(c.fill_id.in_(chunk))
            found += await detached(self._session, InterpolationRecord, stmt)
        return found

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        await upsert(self._session, t.interpolation_records, [to_row(r) for r in records], replace=True)
