"""Clean 5-minute price buckets and the merge rules (domain §4.2).

The functions here never mutate their arguments: they return the entities the caller must save.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.events import DomainEvent, Severity
from spotopt.domain.shared.ids import AgentId, InstanceId
from spotopt.domain.shared.money import MAX_PRICE
from spotopt.domain.shared.time import utc

BUCKET_WIDTH = timedelta(seconds=300)
_DISPLAY_END_OFFSET = timedelta(seconds=299)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PERCENT_QUANTUM = Decimal("0.01")

BucketKey = tuple[str, datetime]


class DataSource(StrEnum):
    MEASURED = "measured"
    INTERPOLATED = "interpolated"


class InterpolationMethod(StrEnum):
    LINEAR = "linear"
    WEIGHTED_AVERAGE = "weighted-average"
    CROSS_POOL = "cross-pool"


class SubmissionOutcome(StrEnum):
    ACCEPTED = "accepted"
    REPLACED = "replaced"
    KEPT_EXISTING = "kept_existing"
    SUPERSEDED_LOWER_PRIORITY = "superseded_lower_priority"


def bucket_start(observed_at: datetime) -> datetime:
    """PR-10: floor to a multiple of 300 s since the Unix epoch, in UTC."""
    return _EPOCH + (utc(observed_at) - _EPOCH) // BUCKET_WIDTH * BUCKET_WIDTH


def savings_percent(spot_price: Decimal, ondemand_price: Decimal | None) -> Decimal | None:
    """PR-14: ``(od - spot) / od * 100`` at 2 dp half-to-even; negative allowed; None when on-demand is unknown."""
    if ondemand_price is None or ondemand_price <= 0:
        return None
    return ((ondemand_price - spot_price) / ondemand_price * 100).quantize(_PERCENT_QUANTUM, ROUND_HALF_EVEN)


@dataclass(eq=False, slots=True)
class CleanPriceBucket:
    """PR-11: the clean price of one pool in one 5-minute bucket; one per ``(pool_id, bucket_start)`` (MD-2)."""

    pool_id: str
    instance_type: str
    region: str
    az: str
    bucket_start: datetime
    spot_price: Decimal
    source_type: SourceType
    confidence: Decimal
    data_source: DataSource
    created_at: datetime
    updated_at: datetime
    ondemand_price: Decimal | None = None
    savings_percent: Decimal | None = None
    interpolation_method: InterpolationMethod | None = None
    source_submission_id: str | None = None
    source_agent_id: AgentId | None = None
    source_instance_id: InstanceId | None = None
    fill_id: str | None = None
    observation_count: int = 1
    discrepancy: bool = False

    def __post_init__(self) -> None:
        if self.bucket_start.tzinfo is None or self.bucket_start != bucket_start(self.bucket_start):
            raise InvalidValueError("bucket_start", "must be a multiple of 300 s since the Unix epoch, UTC (MD-2)")
        if not Decimal(0) < self.spot_price <= MAX_PRICE:
            raise InvalidValueError("spot_price", "must be in (0, 1000]")
        interpolated = self.data_source is DataSource.INTERPOLATED
        if interpolated != (self.interpolation_method is not None) or interpolated != (
            self.source_type is SourceType.INTERPOLATED
        ):
            raise InvalidValueError("data_source", "interpolated buckets need a method and source type (MD-4)")
        if interpolated and self.confidence >= Decimal("0.95"):
            raise InvalidValueError("confidence", "synthesised values have confidence < 0.95 (MD-4)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CleanPriceBucket) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> BucketKey:
        return (self.pool_id, self.bucket_start)

    @property
    def bucket_end(self) -> datetime:
        """PR-10: inclusive end for display (the bucket covers ``[start, start + 300 s)``)."""
        return self.bucket_start + _DISPLAY_END_OFFSET

    @property
    def is_measured(self) -> bool:
        return self.data_source is DataSource.MEASURED


@dataclass(frozen=True, slots=True)
class PriceDiscrepancy:
    """PR-13: a measured observation more than 10 % away from the bucket's measured price (never averaged)."""

    pool_id: str
    bucket_start: datetime
    kept_price: Decimal
    observed_price: Decimal
    submission_id: str

    @property
    def dedup_key(self) -> str:
        """At most one ``price_discrepancy`` event per pool per hour."""
        return f"price_discrepancy:{self.pool_id}:{self.bucket_start:%Y-%m-%dT%H}"

    def to_event(self) -> DomainEvent:
        return DomainEvent(
            type="price_discrepancy",
            severity=Severity.WARNING,
            message=f"Price of {self.pool_id} at {self.bucket_start.isoformat()} differs by more than 10 %",
            metadata={
                "pool_id": self.pool_id,
                "bucket_start": self.bucket_start.isoformat(),
                "kept_price": str(self.kept_price),
                "observed_price": str(self.observed_price),
                "dedup_key": self.dedup_key,
            },
        )
