"""``TrainingData`` from the public spot traces (``../shared/data``), so a new installation can start with a real
``interruption_risk`` model before its own fleet has history.

How the traces become fleet observations:
- each AWS trace file is one pool (``<instance type>.<az>``); a count of N means N instances alive (preemption
  traces) or obtainable (availability traces). Slot k holds an instance while the count exceeds k: it starts when
  the count rises above k and receives a termination notice 2 minutes before the tick at which the count falls to
  k or less. The end of a trace ends every life without a notice (censored, §6.9);
- the fleet statistics of §6.2 (notices over 24 h / 7 d / 30 d, the last notice, exposure over 7 d) are counted
  from those lives up to the sample time only; the traces carry no rebalance recommendations (0);
- prices: the public spot price snapshot per region and type, the on-demand price from the Spot Advisor's saving,
  both as known at the sample time; there is no price history, so change and volatility features are missing.

There is no multi-day price history in the public data, so ``price_forecast`` samples are empty and price
training is skipped (DP-9) until the fleet has its own buckets.
"""

from __future__ import annotations

import asyncio
import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spotopt.domain.decisions.estimation import PoolHistory, PoolSnapshot, PoolStats
from spotopt.domain.decisions.features import FeatureValue, feature_rows
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.training import HORIZON, Sample, TrackedLife, risk_sample_times
from spotopt.domain.pricing.buckets import bucket_start
from spotopt.domain.shared.pools import region_of_az

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[4].parent / "shared" / "data"
NOTICE_LEAD = timedelta(minutes=2)
# Every folder name ends with its start date. The 16-node availability trace is left out by default: its count is
# how many of 16 instances a probe could obtain at once, not how many running instances were reclaimed, so a drop
# is not an interruption of anything a fleet runs (``bench/ml/risk_f1.py --with-multi-node-availability`` shows
# what including it does).
TRACE_FOLDERS = (
    "spot-traces/availability/1-node/aws-10-26-2022",
    "spot-traces/availability/1-node/aws-02-15-2023",
    "spot-traces/preemption/1-node/aws-04-22-2023",
    "spot-traces/preemption/1-node/aws-04-19-2023",
    "spot-traces/preemption/4-node/aws-08-03-2023",
)
MULTI_NODE_AVAILABILITY = "spot-traces/availability/16-node/aws-08-27-2023"
INSTANCE_TYPES = {
    "v100_1": "p3.2xlarge",
    "v100_8": "p3.16xlarge",
    "k80_1": "p2.xlarge",
    "k80_8": "p2.8xlarge",
    "intel_64": "r5.16xlarge",
}
PRICE_SNAPSHOT = "spot-prices/spot-price-data-2022-07-23.json"
ADVISOR_SNAPSHOT = "spot-advisor/spot-advisor-data-2022-07-23.json"
_PRICE_REGIONS = {"us-east": "us-east-1", "us-west": "us-west-1"}


class TraceDataMissingError(Exception):
    """The shared data folder (or a file the adapter needs) is absent."""


@dataclass(frozen=True, slots=True)
class TracePool:
    """One trace file: a pool's count series on a fixed grid, and the folder (batch) it belongs to."""

    folder: str
    pool_id: str
    instance_type: str
    az: str
    start: datetime
    gap: timedelta
    counts: tuple[int, ...]

    @property
    def region(self) -> str:
        return region_of_az(self.az)

    @property
    def end(self) -> datetime:
        return self.start + self.gap * (len(self.counts) - 1)

    def lives(self) -> list[TrackedLife]:
        lives: list[TrackedLife] = []
        for slot in range(max(self.counts, default=0)):
            began: datetime | None = None
            for i, count in enumerate(self.counts):
                at = self.start + self.gap * i
                if count > slot and began is None:
                    began = at
                elif count <= slot and began is not None:
                    notice = max(began, at - NOTICE_LEAD)
                    lives.append(
                        TrackedLife(f"{self.pool_id}#{slot}@{int(began.timestamp())}", self.pool_id, began, at, notice)
                    )
                    began = None
            if began is not None and began < self.end:
                lives.append(
                    TrackedLife(f"{self.pool_id}#{slot}@{int(began.timestamp())}", self.pool_id, began, self.end)
                )
        return lives


class FleetHistory:
    """§6.2 statistics of one pool from its lives, as known at any time t."""

    def __init__(self, lives: Sequence[TrackedLife]) -> None:
        self._notices = sorted(life.notice_at for life in lives if life.notice_at is not None)
        self._lives = sorted(lives, key=lambda life: life.start)

    def stats(self, t: datetime) -> PoolStats:
        def count(window: timedelta) -> int:
            return bisect.bisect_right(self._notices, t) - bisect.bisect_right(self._notices, t - window)

        last_index = bisect.bisect_right(self._notices, t) - 1
        week = t - timedelta(days=7)
        exposure = sum(
            (min(life.end, t) - max(life.start, week)).total_seconds()
            for life in self._lives
            if life.start < t and life.end > week
        )
        return PoolStats(
            t24=count(timedelta(hours=24)),
            t7=count(timedelta(days=7)),
            t30=count(timedelta(days=30)),
            last_notice_at=self._notices[last_index] if last_index >= 0 else None,
            exposure_hours_7d=Decimal(round(exposure / 3600, 3)),
        )


class TraceTrainingData:
    """``TrainingData`` over the public traces; ``data_dir`` defaults to ``<project root>/../shared/data``."""

    def __init__(self, data_dir: Path | None = None, folders: Sequence[str] = TRACE_FOLDERS) -> None:
        self._dir = data_dir or DEFAULT_DATA_DIR
        self._folders = tuple(folders)
        self._risk: list[Sample] | None = None

    @property
    def data_dir(self) -> Path:
        return self._dir

    def available(self) -> bool:
        return all((self._dir / folder).is_dir() for folder in self._folders)

    def pools(self) -> list[TracePool]:
        if not self.available():
            raise TraceDataMissingError(f"spot traces not found under {self._dir}")
        return [pool for folder in self._folders for pool in _load_folder(self._dir, folder)]

    @property
    def window_end(self) -> datetime:
        """The end of the data: the window the trainer splits (DP-8) ends here, not at today's date."""
        return max(pool.end for pool in self.pools())

    async def samples(self, kind: ModelKind, start: datetime, end: datetime) -> Sequence[Sample]:
        if kind is ModelKind.PRICE_FORECAST:
            return []
        if self._risk is None:
            self._risk = await asyncio.to_thread(self.risk_samples)
        return [s for s in self._risk if start <= s.at and s.label_end <= end]

    def risk_samples(self, horizon: timedelta = HORIZON) -> list[Sample]:
        """Every §6.9 risk sample of every trace (``horizon`` other than 2 h only for benchmarks)."""
        prices = _Prices(self._dir)
        out: list[Sample] = []
        for batch in _batches(self.pools()):
            lives = {pool.pool_id: pool.lives() for pool in batch}
            history = {pool_id: FleetHistory(pool_lives) for pool_id, pool_lives in lives.items()}
            for pool in batch:
                for life in lives[pool.pool_id]:
                    for at, label in risk_sample_times(life, horizon):
                        row = sample_features(pool, batch, at, history[pool.pool_id].stats(at), life, prices)
                        out.append(Sample(pool_id=pool.pool_id, at=at, features=row, label=float(label)))
        return sorted(out, key=lambda s: (s.at, s.pool_id))


def sample_features(
    pool: TracePool,
    batch: Sequence[TracePool],
    at: datetime,
    stats: PoolStats,
    life: TrackedLife,
    prices: _Prices,
) -> dict[str, FeatureValue]:
    """The §6.9 row of ``pool`` at ``at``: the pool itself and, for rank and peer count, the batch's priced pools."""

    def snapshot(p: TracePool, pool_stats: PoolStats, age: float | None) -> PoolSnapshot:
        spot, ondemand = prices.of(p)
        measured = {} if spot is None or not p.start <= at <= p.end else {bucket_start(at): spot}
        history = PoolHistory(measured=measured, ondemand_price=ondemand, instance_age_hours=age)
        return PoolSnapshot(p.pool_id, p.instance_type, p.region, p.az, True, stats=pool_stats, history=history)

    age = (at - life.start).total_seconds() / 3600
    pools = [snapshot(pool, stats, age)] + [snapshot(p, PoolStats(), None) for p in batch if p is not pool]
    return feature_rows(pools, at)[pool.pool_id]


class _Prices:
    """Spot price per (region, type) from the public snapshot; on-demand from the Spot Advisor's saving."""

    def __init__(self, root: Path) -> None:
        try:
            raw_prices = json.loads((root / PRICE_SNAPSHOT).read_text())
            advisor = json.loads((root / ADVISOR_SNAPSHOT).read_text())["spot_advisor"]
        except (OSError, ValueError, KeyError) as exc:
            raise TraceDataMissingError(f"price snapshots unreadable under {root}: {exc}") from None
        self._spot: dict[tuple[str, str], Decimal] = {}
        for region, types in raw_prices.items():
            for instance_type, by_os in types.items():
                linux = by_os.get("Linux", "")
                if linux.replace(".", "", 1).isdigit():
                    self._spot[(_PRICE_REGIONS.get(region, region), instance_type)] = Decimal(linux)
        self._saving = {
            (region, instance_type): int(entry["s"])
            for region, by_os in advisor.items()
            for instance_type, entry in by_os.get("Linux", {}).items()
        }

    def of(self, pool: TracePool) -> tuple[Decimal | None, Decimal | None]:
        spot = self._spot.get((pool.region, pool.instance_type))
        saving = self._saving.get((pool.region, pool.instance_type))
        if spot is None or saving is None or saving >= 100:
            return spot, None
        return spot, (spot / (1 - Decimal(saving) / 100)).quantize(Decimal("0.000001"))


def _load_folder(root: Path, folder: str) -> list[TracePool]:
    start = datetime.strptime(folder.rsplit("aws-", 1)[1], "%m-%d-%Y").replace(tzinfo=UTC)
    pools = []
    for path in sorted((root / folder).glob("*.json")):
        az, _, suffix = path.stem.partition("_")
        instance_type = INSTANCE_TYPES.get(suffix)
        if instance_type is None:
            continue
        raw = json.loads(path.read_text())
        gap = timedelta(seconds=int(raw["metadata"]["gap_seconds"]))
        counts = tuple(int(c) for c in raw["data"])
        pools.append(TracePool(folder, f"{instance_type}.{az}", instance_type, az, start, gap, counts))
    return pools


def _batches(pools: Iterable[TracePool]) -> list[list[TracePool]]:
    """Pools of one instance type and region in one folder: the batch an estimator would score together."""
    groups: dict[tuple[str, str, str], list[TracePool]] = defaultdict(list)
    for pool in pools:
        groups[(pool.folder, pool.instance_type, pool.region)].append(pool)
    return [groups[key] for key in sorted(groups)]
