"""Fakes of the pricing ports."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from spotopt.domain.pricing.buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool
from tests.fakes.store import InMemoryRepository


class InMemoryPricingRepository(InMemoryRepository):
    async def add_report(self, report: PricingReport) -> None:
        self.store.reports.append(report)

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        new = 0
        for s in submissions:
            if s.submission_id not in self.store.submissions:
                self.store.submissions[s.submission_id] = s
                new += 1
        return new

    async def get_pool(self, pool_id: str) -> SpotPool | None:
        return self.store.pools.get(pool_id)

    async def add_pool(self, pool: SpotPool) -> None:
        self.store.pools[pool.pool_id] = pool

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]:
        found = [p for p in self.store.pools.values() if p.instance_type == instance_type and p.region == region]
        return sorted(found, key=lambda p: p.pool_id)

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None:
        return self.store.ondemand.get((instance_type, region))

    async def add_ondemand(self, price: OnDemandPrice) -> None:
        self.store.ondemand[(price.instance_type, price.region)] = price

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        return self.store.ondemand.setdefault((initial.instance_type, initial.region), initial)

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None:
        self.store.ondemand_observations.append(observation)

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        for pool in pools:
            known = self.store.pools.get(pool.pool_id)
            if known is None:
                self.store.pools[pool.pool_id] = dataclasses.replace(pool)
            else:
                known.last_seen_at = max(known.last_seen_at, seen_at)

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        found = [dataclasses.replace(p) for p in self.store.pools.values() if p.last_seen_at >= since]
        return sorted(found, key=lambda p: p.pool_id)

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        pending = [
            dataclasses.replace(s, validation_flags=list(s.validation_flags))
            for s in self.store.submissions.values()
            if s.processed_at is None
            and s.is_valid
            and s.spot_price is not None
            and (received_since is None or s.received_at >= received_since)
        ]
        return sorted(pending, key=lambda s: (s.received_at, s.submission_id))[:limit]

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        for s in submissions:
            stored = self.store.submissions[s.submission_id]
            stored.processed_at, stored.outcome = s.processed_at, s.outcome

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        return {p: dataclasses.replace(self.store.ondemand[p]) for p in set(pairs) if p in self.store.ondemand}

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        valid = sorted(
            (
                o
                for o in self.store.ondemand_observations
                if o.instance_type == instance_type and o.region == region and o.is_valid
            ),
            key=lambda o: o.observed_at,
        )
        before = [o for o in valid if o.observed_at < start][-1:]
        return [*before, *(o for o in valid if start <= o.observed_at <= end)]

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        wanted = set(dedup_keys)
        return {
            str(e.metadata["dedup_key"])
            for e in self.store.events
            if e.type == event_type and e.created_at >= since and e.metadata.get("dedup_key") in wanted
        }


class InMemoryPriceBucketRepository(InMemoryRepository):
    """Hands out copies only, as the SQL adapter hands out detached entities: stored buckets and interpolation
    records never change in place (``InMemoryStore.DETACHED``).
    """

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        found: dict[str, CleanPriceBucket] = {}
        for (pool_id, start), bucket in self.store.buckets.items():
            if pool_id in pool_ids and start <= at and (pool_id not in found or found[pool_id].bucket_start < start):
                found[pool_id] = bucket
        return {pool_id: dataclasses.replace(bucket) for pool_id, bucket in found.items()}

    def put(self, bucket: CleanPriceBucket) -> None:
        """Test set-up: write the bucket to the tables directly (committed state, unless a transaction is open)."""
        self._store.buckets[(bucket.pool_id, bucket.bucket_start)] = bucket

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        return {k: dataclasses.replace(self.store.buckets[k]) for k in set(keys) if k in self.store.buckets}

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        wanted = set(pool_ids)
        found = [
            dataclasses.replace(b)
            for (pool_id, bucket_start), b in self.store.buckets.items()
            if pool_id in wanted and start <= bucket_start < end
        ]
        return sorted(found, key=lambda b: b.key)

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        wanted = set(fill_ids)
        return [dataclasses.replace(b) for b in self.store.buckets.values() if b.fill_id in wanted]

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        for bucket in buckets:
            self.store.buckets[bucket.key] = dataclasses.replace(bucket)

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        inserted: set[BucketKey] = set()
        for bucket in buckets:
            if bucket.key not in self.store.buckets:
                self.store.buckets[bucket.key] = dataclasses.replace(bucket)
                inserted.add(bucket.key)
        return inserted

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        for bucket in buckets:
            self.store.buckets.pop(bucket.key, None)

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        wanted = set(fill_ids)
        return [dataclasses.replace(r) for r in self.store.interpolation_records.values() if r.fill_id in wanted]

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        for record in records:
            self.store.interpolation_records[record.record_id] = dataclasses.replace(record)
