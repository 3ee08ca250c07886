"""Gap detection and filling (domain §4.3).

Functions here never mutate their arguments: they return the buckets and records to save or delete.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise

from spotopt.domain.pricing.buckets import BUCKET_WIDTH, CleanPriceBucket, DataSource, InterpolationMethod
from spotopt.domain.pricing.gaps import (
    Gap,
    GapFillResult,
    InterpolationRecord,
    Neighbour,
    PeerChange,
    UnfilledGap,
    UnfilledReason,
)
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.shared.ids import new_id
from spotopt.domain.shared.money import MAX_PRICE, round_price

FILL_LAG = timedelta(minutes=10)
NEIGHBOUR_REACH = timedelta(hours=1)
MAX_NEIGHBOURS = 6
PEER_LOOKBACK = timedelta(minutes=15)
MIN_PEERS = 2
MAX_FILLED_STEPS = 24
_SECOND = timedelta(seconds=1)

# §4.3 method table: the number of 5-minute steps between the boundaries decides method and confidence.
_METHODS: tuple[tuple[range, InterpolationMethod, Decimal], ...] = (
    (range(2, 3), InterpolationMethod.LINEAR, Decimal("0.85")),
    (range(3, 7), InterpolationMethod.WEIGHTED_AVERAGE, Decimal("0.75")),
    (range(7, MAX_FILLED_STEPS + 1), InterpolationMethod.CROSS_POOL, Decimal("0.70")),
)


@dataclass(frozen=True, slots=True)
class _Estimate:
    price: Decimal
    neighbours: tuple[Neighbour, ...] = ()
    peers: tuple[PeerChange, ...] = ()


def method_for(n: int) -> tuple[InterpolationMethod, Decimal] | None:
    """§4.3 method table: ``n`` steps between boundaries; None when not filled (n < 2 or n >= 25)."""
    return next(((m, c) for steps, m, c in _METHODS if n in steps), None)


def _linear(gap: Gap, t: datetime) -> _Estimate:
    """§4.3 linear: ``p_b + (p_a - p_b) * (t - t_b) / (t_a - t_b)``."""
    fraction = Decimal((t - gap.t_b) // BUCKET_WIDTH) / Decimal(gap.n)
    return _Estimate(round_price(gap.p_b + (gap.p_a - gap.p_b) * fraction))


def _weighted_average(gap: Gap, t: datetime, measured: Sequence[CleanPriceBucket]) -> _Estimate:
    """§4.3 weighted-average: up to 6 nearest measured buckets in ``[t_b - 1 h, t_a + 1 h]``, ``w = 1/(ds + 1)``."""
    lo, hi = gap.t_b - NEIGHBOUR_REACH, gap.t_a + NEIGHBOUR_REACH
    candidates = sorted(
        (b for b in measured if lo <= b.bucket_start <= hi), key=lambda b: (abs(t - b.bucket_start), b.bucket_start)
    )[:MAX_NEIGHBOURS]
    with localcontext() as ctx:
        ctx.prec = 50
        neighbours = tuple(
            Neighbour(b.pool_id, b.bucket_start, b.spot_price, 1 / Decimal(abs(t - b.bucket_start) // _SECOND + 1))
            for b in candidates
        )
        total = sum((nb.weight for nb in neighbours), Decimal(0))
        price = sum((nb.weight * nb.price for nb in neighbours), Decimal(0)) / total
    return _Estimate(round_price(price), neighbours=neighbours)


def _latest_in(buckets: Sequence[CleanPriceBucket], lo: datetime, hi: datetime) -> CleanPriceBucket | None:
    i = bisect_right(buckets, hi, key=lambda b: b.bucket_start)
    return buckets[i - 1] if i and buckets[i - 1].bucket_start >= lo else None


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _cross_pool(gap: Gap, t: datetime, peers: Mapping[str, Sequence[CleanPriceBucket]]) -> _Estimate | None:
    """§4.3 cross-pool: ``p_b * (1 + median(r_q))`` over >= 2 peers with ``q_b`` and ``q_t``; else None."""
    changes: list[PeerChange] = []
    for pool_id, buckets in sorted(peers.items()):
        base = _latest_in(buckets, gap.t_b - PEER_LOOKBACK, gap.t_b)
        current = _latest_in(buckets, max(gap.t_b, t - PEER_LOOKBACK), t)
        if base is None or current is None:
            continue
        ratio = (current.spot_price - base.spot_price) / base.spot_price
        changes.append(
            PeerChange(pool_id, base.bucket_start, base.spot_price, current.bucket_start, current.spot_price, ratio)
        )
    if len(changes) < MIN_PEERS:
        return None
    return _Estimate(round_price(gap.p_b * (1 + _median([c.ratio for c in changes]))), peers=tuple(changes))


@dataclass(frozen=True, slots=True)
class _PoolData:
    """PR-15: only measured buckets, sorted by start, ever feed an interpolation."""

    measured: Sequence[CleanPriceBucket]
    peers: Mapping[str, Sequence[CleanPriceBucket]]

    def estimate(self, gap: Gap, method: InterpolationMethod, t: datetime) -> _Estimate | UnfilledReason:
        if method is InterpolationMethod.LINEAR:
            return _linear(gap, t)
        if method is InterpolationMethod.WEIGHTED_AVERAGE:
            return _weighted_average(gap, t, self.measured)
        estimate = _cross_pool(gap, t, self.peers)
        if estimate is None:
            return UnfilledReason.INSUFFICIENT_PEERS
        return estimate if Decimal(0) < estimate.price <= MAX_PRICE else UnfilledReason.PRICE_OUT_OF_RANGE


def _measured_sorted(buckets: Iterable[CleanPriceBucket], pool_id: str) -> list[CleanPriceBucket]:
    return sorted((b for b in buckets if b.pool_id == pool_id and b.is_measured), key=lambda b: b.bucket_start)


@dataclass(frozen=True, slots=True)
class _Fill:
    """One gap filled in one run: every bucket and record shares the method, confidence and ``fill_id`` (PR-18)."""

    gap: Gap
    method: InterpolationMethod
    confidence: Decimal
    fill_id: str
    now: datetime

    def bucket(self, t: datetime, price: Decimal) -> CleanPriceBucket:
        """PR-18: interpolated label, the method and its confidence, no on-demand price, the gap's ``fill_id``."""
        ref = self.gap.before
        return CleanPriceBucket(
            pool_id=ref.pool_id,
            instance_type=ref.instance_type,
            region=ref.region,
            az=ref.az,
            bucket_start=t,
            spot_price=price,
            source_type=SourceType.INTERPOLATED,
            confidence=self.confidence,
            data_source=DataSource.INTERPOLATED,
            created_at=self.now,
            updated_at=self.now,
            interpolation_method=self.method,
            fill_id=self.fill_id,
            observation_count=0,
        )

    def record(self, t: datetime, estimate: _Estimate, record_id: str) -> InterpolationRecord:
        """PR-19."""
        g = self.gap
        return InterpolationRecord(
            record_id=record_id,
            pool_id=g.pool_id,
            bucket_start=t,
            fill_id=self.fill_id,
            method=self.method,
            confidence=self.confidence,
            n=g.n,
            t_b=g.t_b,
            p_b=g.p_b,
            t_a=g.t_a,
            p_a=g.p_a,
            result=estimate.price,
            created_at=self.now,
            neighbours=estimate.neighbours,
            peers=estimate.peers,
        )


def _fill_gap(
    gap: Gap, data: _PoolData, occupied: set[datetime], now: datetime, id_factory: Callable[[], str]
) -> GapFillResult:
    """PR-17/PR-18/PR-22 for one gap: fill every missing bucket ending >= 10 min ago, under one ``fill_id``."""
    missing = [t for t in gap.inner_starts() if t not in occupied]
    chosen = method_for(gap.n)
    if chosen is None:
        return GapFillResult(
            (), (), (UnfilledGap(gap, UnfilledReason.GAP_TOO_LONG, tuple(missing)),) if missing else ()
        )
    fill = _Fill(gap, *chosen, fill_id=id_factory(), now=now)
    buckets: list[CleanPriceBucket] = []
    records: list[InterpolationRecord] = []
    skipped: dict[UnfilledReason, list[datetime]] = {}
    for t in (t for t in missing if t + BUCKET_WIDTH + FILL_LAG <= now):
        estimate = data.estimate(gap, fill.method, t)
        if isinstance(estimate, UnfilledReason):
            skipped.setdefault(estimate, []).append(t)
            continue
        buckets.append(fill.bucket(t, estimate.price))
        records.append(fill.record(t, estimate, id_factory()))
    unfilled = tuple(UnfilledGap(gap, reason, tuple(starts)) for reason, starts in skipped.items())
    return GapFillResult(tuple(buckets), tuple(records), unfilled)


def fill_gaps(
    pool_id: str,
    buckets_of_pool: Iterable[CleanPriceBucket],
    peer_buckets: Mapping[str, Iterable[CleanPriceBucket]],
    *,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    id_factory: Callable[[], str] = new_id,
) -> GapFillResult:
    """PR-15 - PR-22: fill the inner gaps between measured buckets of ``pool_id`` that start in the window.

    Boundaries are measured buckets with ``window_start <= bucket_start < window_end``; edges are never filled
    (PR-16). ``buckets_of_pool`` should reach one hour beyond the window (weighted-average neighbours);
    ``peer_buckets`` maps the other pools of the same instance type and region to their buckets (cross-pool).
    """
    own = [b for b in buckets_of_pool if b.pool_id == pool_id]
    measured = _measured_sorted(own, pool_id)
    data = _PoolData(measured, {q: _measured_sorted(bs, q) for q, bs in peer_buckets.items() if q != pool_id})
    occupied = {b.bucket_start for b in own}
    bounds = [b for b in measured if window_start <= b.bucket_start < window_end]
    parts = [
        _fill_gap(Gap(before, after), data, occupied, now, id_factory)
        for before, after in pairwise(bounds)
        if after.bucket_start - before.bucket_start > BUCKET_WIDTH
    ]
    return GapFillResult(
        tuple(b for p in parts for b in p.buckets),
        tuple(r for p in parts for r in p.records),
        tuple(u for p in parts for u in p.unfilled),
    )
