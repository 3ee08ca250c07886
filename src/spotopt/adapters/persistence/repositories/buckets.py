"""Clean price buckets and interpolation records (``PriceBucketRepository``, application/ports/pricing.py).

A bulk path: the pricing jobs read and write thousands of buckets per run, so entities are detached and writes
are set-based statements (``bulk``). Only ``latest`` (the decision inputs, a few pools) returns session entities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.buckets import BUCKETS, INTERPOLATION_RECORDS
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.pricing import InterpolationRecordModel, PriceBucketModel
from spotopt.adapters.persistence.repositories.bulk import chunks, rows, upsert
from spotopt.domain.pricing.buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord


class SqlAlchemyPriceBucketRepository:
    def __init__(self, entities: SessionEntities) -> None:
        self._db = entities

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        b = PriceBucketModel
        found: dict[str, CleanPriceBucket] = {}
        for pool_id in dict.fromkeys(pool_ids):
            stmt = select(b).where(b.pool_id == pool_id, b.bucket_start <= at).order_by(b.bucket_start.desc()).limit(1)
            bucket = await self._db.one(BUCKETS, stmt)
            if bucket is not None:
                found[pool_id] = bucket
        return found

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        wanted = set(keys)
        b = PriceBucketModel
        pools, starts = sorted({k[0] for k in wanted}), sorted({k[1] for k in wanted})
        found: dict[BucketKey, CleanPriceBucket] = {}
        # (pool IN …) × (start IN …) over-fetches at most the other stored keys of the same pools and starts.
        for pool_chunk in chunks(pools):
            for start_chunk in chunks(starts):
                stmt = select(b).where(b.pool_id.in_(pool_chunk), b.bucket_start.in_(start_chunk))
                found.update((x.key, x) for x in await self._db.detached(BUCKETS, stmt) if x.key in wanted)
        return found

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        b = PriceBucketModel
        found: list[CleanPriceBucket] = []
        for chunk in chunks(sorted(set(pool_ids))):
            stmt = select(b).where(b.pool_id.in_(chunk), b.bucket_start >= start, b.bucket_start < end)
            found += await self._db.detached(BUCKETS, stmt.order_by(b.pool_id, b.bucket_start))
        return found

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        b = PriceBucketModel
        found: list[CleanPriceBucket] = []
        for chunk in chunks(sorted(set(fill_ids))):
            found += await self._db.detached(BUCKETS, select(b).where(b.fill_id.in_(chunk)))
        return found

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        await upsert(self._db, table_of(PriceBucketModel), rows(BUCKETS, buckets), replace=True)

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        if not buckets:
            return set()
        await upsert(self._db, table_of(PriceBucketModel), rows(BUCKETS, buckets), replace=False)
        # Fill ids are fresh per run: a stored bucket carrying ours is one this call inserted.
        stored = await self.get_many([b.key for b in buckets])
        return {b.key for b in buckets if b.key in stored and stored[b.key].fill_id == b.fill_id}

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        b = PriceBucketModel
        starts_by_pool: dict[str, list[datetime]] = defaultdict(list)
        for bucket in buckets:
            starts_by_pool[bucket.pool_id].append(bucket.bucket_start)
        for pool_id, starts in sorted(starts_by_pool.items()):
            for chunk in chunks(sorted(starts)):
                stmt = delete(b).where(b.pool_id == pool_id, b.bucket_start.in_(chunk))
                await self._db.execute(stmt.execution_options(synchronize_session=False))

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        r = InterpolationRecordModel
        found: list[InterpolationRecord] = []
        for chunk in chunks(sorted(set(fill_ids))):
            found += await self._db.detached(INTERPOLATION_RECORDS, select(r).where(r.fill_id.in_(chunk)))
        return found

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        table = table_of(InterpolationRecordModel)
        await upsert(self._db, table, rows(INTERPOLATION_RECORDS, records), replace=True)
