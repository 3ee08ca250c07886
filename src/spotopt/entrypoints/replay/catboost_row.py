"""The CatBoost engine row of the replay: a risk model trained only on trace data that ends before the window.

Training data (wired in ``bootstrap.replay_models``): the replayed trace up to ``--start-day`` plus every other
public trace folder that starts before the window (in practice the 2022-10-26 us-west-2 availability traces);
only samples whose 2 h label window closes by the window's start are kept.

Serving: the domain sees the replay's zones as zones of one region ``replay-1`` (RP-1, see ``fleet.PoolNames``);
the model was trained on the real zone and region names, so ``ZoneNamedEstimator`` scores every pool under its real
name, region by region (the batch of §6.9's rank and peer count), and hands the estimates back under the replay's
pool ids.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from spotopt.bootstrap.replay_models import CountSeries, TrainedReplayModel, train_replay_estimator
from spotopt.domain.decisions.estimation import Estimator, PoolEstimate, PoolSnapshot
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.pools import region_of_az
from spotopt.entrypoints.replay.fleet import PoolNames
from spotopt.entrypoints.replay.market import Market

REPLAYED_FOLDER = "spot-traces/availability/1-node/aws-02-15-2023"


class ZoneNamedEstimator:
    """An ``Estimator`` that scores the replay's pools under their real zone names (one batch per real region)."""

    def __init__(self, inner: Estimator, names: PoolNames) -> None:
        self._inner = inner
        self._names = names

    def estimate(self, pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, PoolEstimate]:
        by_region: dict[str, list[tuple[str, PoolSnapshot]]] = defaultdict(list)
        for pool in pools:
            zone = self._names.zone_of(pool.pool_id)
            real = dataclasses.replace(pool, pool_id=f"{pool.instance_type}.{zone}", region=region_of_az(zone), az=zone)
            by_region[real.region].append((pool.pool_id, real))
        out: dict[str, PoolEstimate] = {}
        for batch in by_region.values():
            scored = self._inner.estimate([real for _, real in batch], now)
            for replay_id, real in batch:
                out[replay_id] = dataclasses.replace(scored[real.pool_id], pool_id=replay_id)
        return out


def history_series(history: Market | None, history_start: datetime) -> list[CountSeries]:
    """The replayed trace before the window as count series (1 = obtainable), starting at the trace's epoch."""
    if history is None:
        return []
    return [
        CountSeries(
            history.instance_type, z.name, history_start, history.gap_seconds, tuple(int(ok) for ok in z.obtainable)
        )
        for z in history.zones
    ]


class CatBoostFactory:
    """``EstimatorFactory`` for ``runner.ReplayRun``: trains once per window and keeps the report of it."""

    def __init__(self, data_dir: Path, policy: PolicyDocument, history_start: datetime) -> None:
        self.data_dir = data_dir
        self.policy = policy
        self.history_start = history_start
        self.trained: TrainedReplayModel | None = None

    def train(self, history: Market | None, window_start: datetime) -> TrainedReplayModel:
        if self.trained is None:
            self.trained = train_replay_estimator(
                self.data_dir,
                history_series(history, self.history_start),
                before=window_start,
                skip_folder=REPLAYED_FOLDER,
                policy=self.policy,
            )
        return self.trained

    def __call__(self, history: Market | None, window_start: datetime) -> Estimator:
        return self.train(history, window_start).estimator

    def note(self) -> str:
        t = self.trained
        if t is None:
            return "not trained"
        return f"{t.model}, {len(t.samples)} samples ({t.positives} positive) before the window"
