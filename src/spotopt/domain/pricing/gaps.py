"""Gaps in a pool's bucket series and the records of their fills (§4.3, PR-19, PR-21)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from spotopt.domain.pricing.buckets import BUCKET_WIDTH, CleanPriceBucket, InterpolationMethod
from spotopt.domain.shared.events import DomainEvent, Severity


class UnfilledReason(StrEnum):
    GAP_TOO_LONG = "gap_too_long"
    INSUFFICIENT_PEERS = "insufficient_peers"
    # Not in §4.3: a cross-pool result outside (0, 1000] is left unknown rather than clamped (MD-5).
    PRICE_OUT_OF_RANGE = "price_out_of_range"


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A measured bucket of the same pool used by the weighted average, with its weight."""

    pool_id: str
    bucket_start: datetime
    price: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class PeerChange:
    """A peer pool's relative change ``r_q = (q_t - q_b) / q_b`` used by the cross-pool method."""

    pool_id: str
    base_bucket_start: datetime
    base_price: Decimal
    bucket_start: datetime
    price: Decimal
    ratio: Decimal


@dataclass(eq=False, slots=True)
class InterpolationRecord:
    """PR-19: the audit trail of one filled bucket."""

    record_id: str
    pool_id: str
    bucket_start: datetime
    fill_id: str
    method: InterpolationMethod
    confidence: Decimal
    n: int
    t_b: datetime
    p_b: Decimal
    t_a: datetime
    p_a: Decimal
    result: Decimal
    created_at: datetime
    neighbours: tuple[Neighbour, ...] = ()
    peers: tuple[PeerChange, ...] = ()
    superseded_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InterpolationRecord) and other.record_id == self.record_id

    def __hash__(self) -> int:
        return hash(self.record_id)


@dataclass(frozen=True, slots=True)
class Gap:
    """Buckets missing between two consecutive measured boundaries of a pool; ``n`` counts steps, not buckets."""

    before: CleanPriceBucket
    after: CleanPriceBucket

    @property
    def pool_id(self) -> str:
        return self.before.pool_id

    @property
    def t_b(self) -> datetime:
        return self.before.bucket_start

    @property
    def p_b(self) -> Decimal:
        return self.before.spot_price

    @property
    def t_a(self) -> datetime:
        return self.after.bucket_start

    @property
    def p_a(self) -> Decimal:
        return self.after.spot_price

    @property
    def n(self) -> int:
        return (self.t_a - self.t_b) // BUCKET_WIDTH

    def inner_starts(self) -> list[datetime]:
        return [self.t_b + k * BUCKET_WIDTH for k in range(1, self.n)]


@dataclass(frozen=True, slots=True)
class UnfilledGap:
    """Buckets of a gap left empty, and why: ``gap_too_long`` (n >= 25, PR-22), ``insufficient_peers``, ..."""

    gap: Gap
    reason: UnfilledReason
    bucket_starts: tuple[datetime, ...]

    @property
    def dedup_key(self) -> str:
        """PR-22: at most one event per gap."""
        return f"price_gap_not_filled:{self.gap.pool_id}:{self.gap.t_b.isoformat()}:{self.gap.t_a.isoformat()}"

    def to_event(self) -> DomainEvent | None:
        """PR-22: only gaps too long to fill emit the info event ``price_gap_not_filled``."""
        if self.reason is not UnfilledReason.GAP_TOO_LONG:
            return None
        start = self.gap.t_b + BUCKET_WIDTH
        return DomainEvent(
            type="price_gap_not_filled",
            severity=Severity.INFO,
            message=f"Price gap of {self.gap.pool_id} from {start.isoformat()} not filled ({self.gap.n} steps)",
            metadata={
                "pool_id": self.gap.pool_id,
                "start": start.isoformat(),
                "length": self.gap.n - 1,
                "n": self.gap.n,
                "dedup_key": self.dedup_key,
            },
        )


@dataclass(frozen=True, slots=True)
class GapFillResult:
    """New interpolated buckets, their records, and the gaps left unfilled."""

    buckets: tuple[CleanPriceBucket, ...]
    records: tuple[InterpolationRecord, ...]
    unfilled: tuple[UnfilledGap, ...]

    @property
    def events(self) -> tuple[DomainEvent, ...]:
        return tuple(e for u in self.unfilled if (e := u.to_event()) is not None)


@dataclass(frozen=True, slots=True)
class FillInvalidation:
    """PR-21: interpolated buckets to delete and records to save as superseded."""

    removed_buckets: tuple[CleanPriceBucket, ...]
    superseded_records: tuple[InterpolationRecord, ...]


def invalidate_fill(
    fill_id: str, buckets: Iterable[CleanPriceBucket], records: Iterable[InterpolationRecord], now: datetime
) -> FillInvalidation:
    """PR-21: a measurement landed in the fill; remove its other interpolated buckets, supersede all its records.

    The smaller gaps left behind are filled again by the next ``fill_gaps`` run.
    """
    removed = tuple(b for b in buckets if b.fill_id == fill_id and not b.is_measured)
    superseded = tuple(
        dataclasses.replace(r, superseded_at=now) for r in records if r.fill_id == fill_id and r.superseded_at is None
    )
    return FillInvalidation(removed, superseded)
