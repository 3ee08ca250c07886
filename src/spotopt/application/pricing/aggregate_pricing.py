"""The pricing aggregator job (domain §7.2): raw submissions → clean 5-minute buckets (PR-12 – PR-14, PR-21)."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.pricing.aggregation import AggregationResult, OnDemandLookup, aggregate
from spotopt.domain.pricing.buckets import BucketKey, CleanPriceBucket, PriceDiscrepancy, bucket_start
from spotopt.domain.pricing.gaps import InterpolationRecord, invalidate_fill
from spotopt.domain.pricing.market import PricingSubmission, valid_ondemand
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent

DEFAULT_BATCH_SIZE = 5000
RECONCILIATION_WINDOW = timedelta(hours=2)
# PR-13 events are deduplicated per pool and hour of the bucket; an event is recorded no earlier than the
# submission's receipt, which is at most 2 min before the bucket started (PR-6).
_DEDUP_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregatePricingCommand:
    """One bounded run (JB-5): at most ``batch_size`` submissions; ``received_since`` limits the reconciliation run
    (hh:07) to submissions received in the last 2 h.
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    received_since: datetime | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise InvalidValueError("batch_size", "must be at least 1")

    @classmethod
    def reconciliation(cls, now: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> AggregatePricingCommand:
        return cls(batch_size=batch_size, received_since=now - RECONCILIATION_WINDOW)


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregatePricingResult:
    """Counts for the job-run summary (JB-4); ``has_more`` = the batch was full, the next tick continues (JB-5)."""

    processed: int = 0
    buckets_written: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    discrepancy_events: int = 0
    fills_invalidated: int = 0
    buckets_removed: int = 0
    has_more: bool = False


class AggregatePricing:
    """- PR-12: fold valid unprocessed submissions into their buckets by the merge table, in ``received_at`` order,
      and record ``processed_at``/``outcome`` (nothing else of a submission changes); processed ones are no-ops.
    - PR-13: discrepancies flag the bucket; event ``price_discrepancy`` at most once per pool per hour.
    - PR-14: savings from the submission's on-demand price, else the catalogue price in effect at the bucket start.
    - PR-21: a measurement replacing an interpolated bucket removes the rest of its fill and supersedes the records.
    - Idempotent: a second run over the same data finds nothing unprocessed and changes nothing.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, command: AggregatePricingCommand) -> AggregatePricingResult:
        submissions = await self._uow.pricing.unprocessed_valid_submissions(
            command.batch_size, received_since=command.received_since
        )
        if not submissions:
            return AggregatePricingResult()
        now = self._clock.now()
        keys = list({(s.pool_id, bucket_start(s.observed_at)) for s in submissions})
        existing = await self._uow.buckets.get_many(keys)
        lookup = await self._ondemand_lookup(submissions)
        result = aggregate(submissions, existing.values(), lookup, now)
        removed = await self._invalidate_fills(result, now)
        await self._uow.buckets.save(result.buckets)
        await self._uow.pricing.mark_processed(result.submissions)
        events = await self._discrepancy_events(result.discrepancies)
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return AggregatePricingResult(
            processed=len(result.submissions),
            buckets_written=len(result.buckets),
            outcomes=dict(Counter(o.value for o in result.outcomes.values())),
            discrepancy_events=len(events),
            fills_invalidated=len(result.invalidated_fill_ids),
            buckets_removed=removed,
            has_more=len(submissions) >= command.batch_size,
        )

    async def _invalidate_fills(self, result: AggregationResult, now: datetime) -> int:
        """PR-21: remove the other interpolated buckets of each replaced fill; supersede all its records."""
        fill_ids = list(result.invalidated_fill_ids)
        if not fill_ids:
            return 0
        written: set[BucketKey] = {b.key for b in result.buckets}
        buckets = await self._uow.buckets.of_fills(fill_ids)
        records = await self._uow.buckets.records_of_fills(fill_ids)
        removed: list[CleanPriceBucket] = []
        superseded: list[InterpolationRecord] = []
        for fill_id in fill_ids:
            invalidation = invalidate_fill(fill_id, buckets, records, now)
            removed.extend(b for b in invalidation.removed_buckets if b.key not in written)
            superseded.extend(invalidation.superseded_records)
        await self._uow.buckets.delete(removed)
        await self._uow.buckets.save_records(superseded)
        return len(removed)

    async def _ondemand_lookup(self, submissions: Sequence[PricingSubmission]) -> OnDemandLookup:
        """PR-14: the catalogue price in effect at a bucket start = the latest valid observation at or before it.

        The current price answers for every bucket from its observation on; history is read only for a (type,
        region) whose current price was observed after the batch's earliest bucket there.
        """
        spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for s in submissions:
            if valid_ondemand(s.ondemand_price):
                continue
            start = bucket_start(s.observed_at)
            low, high = spans.get((s.instance_type, s.region), (start, start))
            spans[(s.instance_type, s.region)] = (min(low, start), max(high, start))
        current = await self._uow.pricing.current_ondemand(list(spans)) if spans else {}
        steps: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = {}
        for pair, price in current.items():
            low, high = spans[pair]
            if price.observed_at <= low:
                steps[pair] = [(price.observed_at, price.price)]
                continue
            history = await self._uow.pricing.valid_ondemand_history(*pair, low, high)
            steps[pair] = sorted((o.observed_at, o.price) for o in history)
        return _InEffect(steps)

    async def _discrepancy_events(self, discrepancies: Sequence[PriceDiscrepancy]) -> list[DomainEvent]:
        """PR-13: at most one ``price_discrepancy`` per pool per hour, across runs."""
        first: dict[str, PriceDiscrepancy] = {}
        for d in discrepancies:
            first.setdefault(d.dedup_key, d)
        if not first:
            return []
        since = min(d.bucket_start for d in first.values()).replace(minute=0, second=0, microsecond=0)
        recorded = await self._uow.pricing.recorded_event_keys("price_discrepancy", list(first), since - _DEDUP_MARGIN)
        return [d.to_event() for key, d in first.items() if key not in recorded]


@dataclass(frozen=True, slots=True)
class _InEffect:
    """Per (type, region), the valid prices as a step function of their observation times."""

    steps: dict[tuple[str, str], list[tuple[datetime, Decimal]]]

    def __call__(self, instance_type: str, region: str, at: datetime) -> Decimal | None:
        steps = self.steps.get((instance_type, region), [])
        i = bisect_right(steps, at, key=lambda step: step[0])
        return steps[i - 1][1] if i else None
