"""The gap filler job (domain §7.2): interpolate short gaps between measured buckets (PR-15 – PR-22)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.pricing.buckets import CleanPriceBucket
from spotopt.domain.pricing.gap_filling import NEIGHBOUR_REACH, fill_gaps
from spotopt.domain.pricing.gaps import UnfilledGap
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent

# Bounded transactions (JB-3) and memory: a 48 h window holds about 600 buckets per pool.
POOLS_PER_TRANSACTION = 100
RECENT_WINDOW = timedelta(hours=6)
DAILY_WINDOW = timedelta(hours=48)
# A pool with a measured bucket in the window was listed by a report received at most 2 min before that bucket
# started (PR-6), so the catalogue's ``last_seen_at`` finds every pool of the window.
_CATALOGUE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillPriceGapsCommand:
    """Gaps whose measured boundaries start in ``[window_start, window_end)``.

    Schedules (JB-6, UTC): every 15 min over the last 6 h (``recent``) and daily at 03:00 over the last 48 h
    (``daily``); the job key is ``gap-fill:<window start>:<window end>``.
    """

    window_start: datetime
    window_end: datetime

    def __post_init__(self) -> None:
        if self.window_start.tzinfo is None or self.window_end.tzinfo is None:
            raise InvalidValueError("window", "must be timezone-aware UTC")
        if self.window_start >= self.window_end:
            raise InvalidValueError("window", "window_start must be before window_end")

    @classmethod
    def recent(cls, tick: datetime) -> FillPriceGapsCommand:
        return cls(window_start=tick - RECENT_WINDOW, window_end=tick)

    @classmethod
    def daily(cls, tick: datetime) -> FillPriceGapsCommand:
        return cls(window_start=tick - DAILY_WINDOW, window_end=tick)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillPriceGapsResult:
    """Counts for the job-run summary (JB-4)."""

    pools_examined: int = 0
    buckets_filled: int = 0
    gaps_not_filled_events: int = 0


class FillPriceGaps:
    """- PR-15/PR-16: only measured buckets are inputs; edges of the window are never filled (no extrapolation).
    - PR-17: never overwrites a bucket, never fills one ending less than 10 min ago; PR-18/PR-19: labelled buckets
      sharing the gap's ``fill_id``, each with its interpolation record.
    - PR-20: idempotent (a second run creates nothing); PR-21's smaller gaps are filled on the next run.
    - PR-22: event ``price_gap_not_filled`` (info) at most once per gap.
    - Bounded transactions of whole (instance type, region) groups, about 100 pools each (cross-pool peers span a
      group; JB-3).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: FillPriceGapsCommand) -> FillPriceGapsResult:
        now = self._clock.now()
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for pool in await self._uow.pricing.pools_seen_since(command.window_start - _CATALOGUE_MARGIN):
            groups[(pool.instance_type, pool.region)].append(pool.pool_id)
        filled = events = 0
        for batch in _batches([ids for _, ids in sorted(groups.items())]):
            batch_filled, batch_events = await self._fill_batch(batch, command, now)
            filled, events = filled + batch_filled, events + batch_events
        return FillPriceGapsResult(
            pools_examined=sum(len(ids) for ids in groups.values()),
            buckets_filled=filled,
            gaps_not_filled_events=events,
        )

    async def _fill_batch(
        self, groups: list[list[str]], command: FillPriceGapsCommand, now: datetime
    ) -> tuple[int, int]:
        """Fill every pool of these (instance type, region) groups; a pool's peers are its group's other pools."""
        start, end = command.window_start, command.window_end
        by_pool: dict[str, list[CleanPriceBucket]] = defaultdict(list)
        reach = (start - NEIGHBOUR_REACH, end + NEIGHBOUR_REACH)
        for bucket in await self._uow.buckets.in_window([p for group in groups for p in group], *reach):
            by_pool[bucket.pool_id].append(bucket)
        results = [
            fill_gaps(
                pool_id,
                by_pool[pool_id],
                {q: by_pool[q] for q in group if q in by_pool},
                window_start=start,
                window_end=end,
                now=now,
            )
            for group in groups
            for pool_id in sorted(group)
            if pool_id in by_pool
        ]
        inserted = await self._uow.buckets.insert_new([b for r in results for b in r.buckets])
        records = [r for result in results for r in result.records if (r.pool_id, r.bucket_start) in inserted]
        await self._uow.buckets.save_records(records)
        events = await self._gap_events([u for r in results for u in r.unfilled])
        await record_events(self._uow, events, now)
        if inserted or events:
            await self._uow.commit()
        return len(inserted), len(events)

    async def _gap_events(self, unfilled: Sequence[UnfilledGap]) -> list[DomainEvent]:
        """PR-22: one event per gap too long to fill, across runs (a gap is seen after its later boundary exists)."""
        candidates = {u.dedup_key: e for u in unfilled if (e := u.to_event()) is not None}
        if not candidates:
            return []
        since = min(u.gap.t_b for u in unfilled if u.dedup_key in candidates)
        recorded = await self._uow.pricing.recorded_event_keys("price_gap_not_filled", list(candidates), since)
        return [event for key, event in candidates.items() if key not in recorded]


def _batches(groups: list[list[str]]) -> Iterator[list[list[str]]]:
    """Whole groups (peers stay together), about ``POOLS_PER_TRANSACTION`` pools per read and transaction."""
    batch: list[list[str]] = []
    size = 0
    for pool_ids in groups:
        if batch and size + len(pool_ids) > POOLS_PER_TRANSACTION:
            yield batch
            batch, size = [], 0
        batch.append(pool_ids)
        size += len(pool_ids)
    if batch:
        yield batch
