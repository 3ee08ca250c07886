"""Folding submissions into clean buckets (§4.2 merge rules, PR-12, discrepancies)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.pricing.buckets import (
    BucketKey,
    CleanPriceBucket,
    DataSource,
    PriceDiscrepancy,
    SubmissionOutcome,
    bucket_start,
    savings_percent,
)
from spotopt.domain.pricing.market import PricingSubmission, valid_ondemand
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.money import MAX_PRICE
from spotopt.domain.shared.time import utc

DISCREPANCY_RATIO = Decimal("0.10")
# (instance_type, region, bucket_start) -> the catalogue's on-demand price in effect then, or None (PR-14).
OnDemandLookup = Callable[[str, str, datetime], Decimal | None]


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One submission folded into its bucket; ``invalidated_fill_id`` names the fill to invalidate (PR-21)."""

    bucket: CleanPriceBucket
    outcome: SubmissionOutcome
    discrepancy: PriceDiscrepancy | None = None
    invalidated_fill_id: str | None = None

    @property
    def discrepancy_detected(self) -> bool:
        return self.discrepancy is not None


class _Standing(StrEnum):
    NONE = "none"
    INTERPOLATED = "interpolated"
    LOWER_PRIORITY = "lower_priority"
    SAME_PRIORITY = "same_priority"
    HIGHER_PRIORITY = "higher_priority"


class _Action(StrEnum):
    INSERT = "insert"
    REPLACE = "replace"
    KEEP = "keep"


_MERGE_TABLE: dict[_Standing, tuple[_Action, SubmissionOutcome]] = {
    _Standing.NONE: (_Action.INSERT, SubmissionOutcome.ACCEPTED),
    _Standing.INTERPOLATED: (_Action.REPLACE, SubmissionOutcome.REPLACED),
    _Standing.LOWER_PRIORITY: (_Action.REPLACE, SubmissionOutcome.REPLACED),
    _Standing.SAME_PRIORITY: (_Action.KEEP, SubmissionOutcome.KEPT_EXISTING),
    _Standing.HIGHER_PRIORITY: (_Action.KEEP, SubmissionOutcome.SUPERSEDED_LOWER_PRIORITY),
}


def _standing(existing: CleanPriceBucket | None, source: SourceType) -> _Standing:
    if existing is None:
        return _Standing.NONE
    if not existing.is_measured:
        return _Standing.INTERPOLATED
    if existing.source_type.priority < source.priority:
        return _Standing.LOWER_PRIORITY
    if existing.source_type.priority == source.priority:
        return _Standing.SAME_PRIORITY
    return _Standing.HIGHER_PRIORITY


def _checked_price(submission: PricingSubmission) -> Decimal:
    price = submission.spot_price
    if not submission.is_valid or price is None or not Decimal(0) < price <= MAX_PRICE:
        raise InvalidValueError("submission", "only valid submissions are folded into buckets (PR-12)")
    if submission.source_type is SourceType.INTERPOLATED:
        raise InvalidValueError("source_type", "a submission is a measurement, never interpolated")
    return price


def _measured_bucket(
    submission: PricingSubmission, price: Decimal, ondemand_in_effect: Decimal | None, now: datetime
) -> CleanPriceBucket:
    """MD-3: every measured bucket, fresh or replacing, is labelled exactly like a fresh measurement."""
    ondemand = submission.ondemand_price if valid_ondemand(submission.ondemand_price) else ondemand_in_effect
    ondemand = ondemand if valid_ondemand(ondemand) else None
    return CleanPriceBucket(
        pool_id=submission.pool_id,
        instance_type=submission.instance_type,
        region=submission.region,
        az=submission.az,
        bucket_start=bucket_start(submission.observed_at),
        spot_price=price,
        source_type=submission.source_type,
        confidence=submission.source_type.confidence,
        data_source=DataSource.MEASURED,
        created_at=now,
        updated_at=now,
        ondemand_price=ondemand,
        savings_percent=savings_percent(price, ondemand),
        source_submission_id=submission.submission_id,
        source_agent_id=submission.agent_id,
        source_instance_id=submission.instance_id,
    )


def _discrepancy(existing: CleanPriceBucket | None, submission: PricingSubmission) -> PriceDiscrepancy | None:
    """PR-13: ``abs(new - kept) / kept > 0.10`` against a measured bucket, whatever the merge outcome."""
    new = submission.spot_price
    if existing is None or not existing.is_measured or new is None:
        return None
    kept = existing.spot_price
    if abs(new - kept) / kept <= DISCREPANCY_RATIO:
        return None
    return PriceDiscrepancy(existing.pool_id, existing.bucket_start, kept, new, submission.submission_id)


def fold_submission(
    existing: CleanPriceBucket | None,
    submission: PricingSubmission,
    ondemand_in_effect: Decimal | None,
    now: datetime,
) -> FoldResult:
    """PR-12/PR-13/MD-3: fold one valid submission into its bucket by the §4.2 merge table; values are never averaged.

    ``ondemand_in_effect`` is the catalogue price at the bucket start, used only when the submission carries no
    valid on-demand price (PR-14). ``existing`` is left untouched; the result holds the bucket to save.
    """
    price = _checked_price(submission)
    start = bucket_start(submission.observed_at)
    if existing is not None and existing.key != (submission.pool_id, start):
        raise InvalidValueError("submission", "belongs to another bucket than the one given")
    action, outcome = _MERGE_TABLE[_standing(existing, submission.source_type)]
    discrepancy = _discrepancy(existing, submission)
    if existing is None:
        bucket = _measured_bucket(submission, price, ondemand_in_effect, now)
    elif action is _Action.REPLACE:
        bucket = dataclasses.replace(
            _measured_bucket(submission, price, ondemand_in_effect, now),
            created_at=existing.created_at,
            observation_count=existing.observation_count + 1,
            discrepancy=existing.discrepancy,
        )
    else:
        bucket = dataclasses.replace(existing, observation_count=existing.observation_count + 1, updated_at=now)
    bucket.discrepancy = bucket.discrepancy or discrepancy is not None
    replaced_fill = existing.fill_id if existing is not None and not existing.is_measured else None
    return FoldResult(bucket, outcome, discrepancy, replaced_fill)


@dataclass(frozen=True, slots=True)
class AggregationResult:
    """One aggregator pass (PR-12).

    ``buckets``: to upsert, final state, one per key; ``submissions``: folded, with ``processed_at`` and ``outcome``
    set; ``discrepancies``: for ``price_discrepancy`` events; ``invalidated_fill_ids``: fills to invalidate (PR-21).
    """

    buckets: tuple[CleanPriceBucket, ...]
    submissions: tuple[PricingSubmission, ...]
    discrepancies: tuple[PriceDiscrepancy, ...]
    invalidated_fill_ids: tuple[str, ...]

    @property
    def outcomes(self) -> dict[str, SubmissionOutcome]:
        return {s.submission_id: SubmissionOutcome(s.outcome) for s in self.submissions if s.outcome is not None}


def _foldable(submissions: Iterable[PricingSubmission]) -> list[PricingSubmission]:
    """PR-12/MD-1: valid and unprocessed, each id once (any processed copy wins), in ``received_at`` order."""
    unique: dict[str, PricingSubmission] = {}
    processed: set[str] = set()
    for s in submissions:
        if s.processed_at is not None:
            processed.add(s.submission_id)
        elif s.is_valid and s.spot_price is not None:
            unique.setdefault(s.submission_id, s)
    foldable = (s for i, s in unique.items() if i not in processed)
    return sorted(foldable, key=lambda s: (utc(s.received_at), s.submission_id))


def aggregate(
    submissions: Iterable[PricingSubmission],
    existing_buckets: Iterable[CleanPriceBucket],
    ondemand_lookup: OnDemandLookup,
    now: datetime,
) -> AggregationResult:
    """PR-12: fold every unprocessed valid submission in ``received_at`` order; a processed one is a no-op.

    ``existing_buckets`` must hold the stored buckets of every (pool, bucket) the submissions fall into.
    """
    current: dict[BucketKey, CleanPriceBucket] = {b.key: b for b in existing_buckets}
    changed: dict[BucketKey, CleanPriceBucket] = {}
    folded: list[PricingSubmission] = []
    discrepancies: list[PriceDiscrepancy] = []
    fills: dict[str, None] = {}
    for submission in _foldable(submissions):
        start = bucket_start(submission.observed_at)
        ondemand = None
        if not valid_ondemand(submission.ondemand_price):
            ondemand = ondemand_lookup(submission.instance_type, submission.region, start)
        result = fold_submission(current.get((submission.pool_id, start)), submission, ondemand, now)
        current[result.bucket.key] = changed[result.bucket.key] = result.bucket
        folded.append(dataclasses.replace(submission, processed_at=now, outcome=result.outcome))
        if result.discrepancy is not None:
            discrepancies.append(result.discrepancy)
        if result.invalidated_fill_id is not None:
            fills[result.invalidated_fill_id] = None
    return AggregationResult(tuple(changed.values()), tuple(folded), tuple(discrepancies), tuple(fills))
