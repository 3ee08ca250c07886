"""Ports of the pricing feature: ingestion store and clean price buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from spotopt.domain.pricing.buckets import BucketKey, CleanPriceBucket
from spotopt.domain.pricing.gaps import InterpolationRecord
from spotopt.domain.pricing.market import OnDemandObservation, OnDemandPrice, PricingReport, PricingSubmission, SpotPool


class PricingRepository(Protocol):
    """Pricing ingestion store. ``add_submissions`` ignores ids already stored (MD-1, CC-7)."""

    async def add_report(self, report: PricingReport) -> None: ...

    async def add_submissions(self, submissions: Sequence[PricingSubmission]) -> int:
        """Insert new submissions; returns how many were new."""
        ...

    async def get_pool(self, pool_id: str) -> SpotPool | None: ...

    async def add_pool(self, pool: SpotPool) -> None: ...

    async def list_pools(self, instance_type: str, region: str) -> Sequence[SpotPool]: ...

    async def get_ondemand(self, instance_type: str, region: str) -> OnDemandPrice | None: ...

    async def add_ondemand(self, price: OnDemandPrice) -> None: ...

    async def ensure_ondemand(self, initial: OnDemandPrice) -> OnDemandPrice:
        """The catalogue row of ``initial``'s (type, region), created from ``initial`` when absent, locked for update.

        Concurrent first observations never conflict or deadlock (CC-7).
        """
        ...

    async def add_ondemand_observation(self, observation: OnDemandObservation) -> None: ...

    async def record_pool_sightings(self, pools: Sequence[SpotPool], seen_at: datetime) -> None:
        """PR-7/PR-32: create the pools not catalogued yet; advance ``last_seen_at`` of the others to ``seen_at``.

        ``last_seen_at`` never moves backwards and ``first_seen_at`` never changes.
        """
        ...

    async def pools_seen_since(self, since: datetime) -> Sequence[SpotPool]:
        """Catalogue entries with ``last_seen_at >= since``, by pool id."""
        ...

    async def unprocessed_valid_submissions(
        self, limit: int, *, received_since: datetime | None = None
    ) -> Sequence[PricingSubmission]:
        """PR-12: valid, priced submissions without ``processed_at``, oldest ``received_at`` first (ties by id).

        At most ``limit``; rows another transaction holds are skipped (``SKIP LOCKED`` where supported). The
        entities are detached: store the fold outcome with ``mark_processed``.
        """
        ...

    async def mark_processed(self, submissions: Sequence[PricingSubmission]) -> None:
        """Store ``processed_at`` and ``outcome`` of folded submissions; nothing else of them ever changes (§7.2)."""
        ...

    async def current_ondemand(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], OnDemandPrice]:
        """The catalogue's current price of each ``(instance_type, region)`` that has one (PR-27); detached."""
        ...

    async def valid_ondemand_history(
        self, instance_type: str, region: str, start: datetime, end: datetime
    ) -> Sequence[OnDemandObservation]:
        """Valid observations with ``start <= observed_at <= end`` plus the latest valid one before ``start``.

        Oldest first: enough to know the catalogue price in effect at any time in the range (PR-14, PR-29).
        """
        ...

    async def recorded_event_keys(self, event_type: str, dedup_keys: Sequence[str], since: datetime) -> set[str]:
        """Those ``dedup_keys`` a system event of ``event_type`` created at or after ``since`` already carries.

        The key is the event's ``metadata["dedup_key"]``: the dedupe of notification-free events (PR-6, PR-13,
        PR-22).
        """
        ...


class PriceBucketRepository(Protocol):
    """Clean price buckets (§4.2), fleet-wide."""

    async def latest(self, pool_ids: Sequence[str], at: datetime) -> dict[str, CleanPriceBucket]:
        """Per pool, the latest bucket with ``bucket_start <= at`` (PR-23); pools without one are absent."""
        ...

    # The bulk methods below serve the pricing jobs. Their entities are detached: write changes with
    # ``save`` / ``insert_new`` / ``delete`` (no change tracking over thousands of rows).

    async def get_many(self, keys: Sequence[BucketKey]) -> dict[BucketKey, CleanPriceBucket]:
        """The stored buckets among ``keys`` (``(pool_id, bucket_start)``); missing keys are absent."""
        ...

    async def in_window(self, pool_ids: Sequence[str], start: datetime, end: datetime) -> Sequence[CleanPriceBucket]:
        """Buckets of ``pool_ids`` with ``start <= bucket_start < end``, by pool then start."""
        ...

    async def of_fills(self, fill_ids: Sequence[str]) -> Sequence[CleanPriceBucket]:
        """Buckets that carry one of ``fill_ids`` (PR-21)."""
        ...

    async def save(self, buckets: Sequence[CleanPriceBucket]) -> None:
        """Insert or replace each bucket by its key (MD-2): the aggregator's merge result (PR-12)."""
        ...

    async def insert_new(self, buckets: Sequence[CleanPriceBucket]) -> set[BucketKey]:
        """Insert the buckets whose key is free, never touching a stored one (PR-17); returns the keys inserted."""
        ...

    async def delete(self, buckets: Sequence[CleanPriceBucket]) -> None:
        """Remove these buckets (only interpolated ones are ever removed, PR-21)."""
        ...

    async def records_of_fills(self, fill_ids: Sequence[str]) -> Sequence[InterpolationRecord]:
        """Interpolation records of ``fill_ids`` (PR-19, PR-21)."""
        ...

    async def save_records(self, records: Sequence[InterpolationRecord]) -> None:
        """Insert new interpolation records, or store ``superseded_at`` of known ones (PR-19, PR-21)."""
        ...
