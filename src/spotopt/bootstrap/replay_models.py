"""The CatBoost ``interruption_risk`` model of the replay benchmark, trained with the production trainer (DP-10)
on public traces that end strictly before the replay window.

Wiring only: the entrypoint (``spotopt replay``) hands over the replayed trace's part before the window as plain
count series; the samples are built by the traces adapter (§6.9 features and labels), fitted by
``CatBoostModelTrainer`` into a temporary model store, and served by ``CatBoostEstimator``. There is no price
history in the public data, so the price component is the rule estimator's (DP-3 fallback, as in production).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from spotopt.adapters.ml.catboost_estimator import CatBoostEstimator
from spotopt.adapters.ml.catboost_models import CatBoostPredictor
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.ml.traces import TRACE_FOLDERS, TracePool, TraceTrainingData
from spotopt.domain.decisions.estimation import Estimator, RuleEstimator
from spotopt.domain.decisions.models import ModelKind, TrainingWindow
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.training import Sample

HISTORY_FOLDER = "replay-history"


@dataclass(frozen=True, slots=True)
class CountSeries:
    """One zone's count series on a fixed grid (the replayed trace before the window)."""

    instance_type: str
    az: str
    start: datetime
    gap_seconds: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TrainedReplayModel:
    estimator: Estimator
    model: str
    samples: tuple[Sample, ...]  # the training rows, every one labelled before ``before``
    positives: int
    folders: tuple[str, ...]


class _GivenPools(TraceTrainingData):
    """The traces adapter over a fixed list of pools (the sample rules stay those of ``risk_samples``)."""

    def __init__(self, data_dir: Path, pools: Sequence[TracePool]) -> None:
        super().__init__(data_dir, folders=())
        self._given = list(pools)

    def pools(self) -> list[TracePool]:
        return list(self._given)


def training_pools(
    data_dir: Path, history: Sequence[CountSeries], before: datetime, skip_folder: str
) -> list[TracePool]:
    """Every trace pool that starts before ``before`` (``skip_folder``, the replayed trace, only as ``history``)."""
    folders = tuple(f for f in TRACE_FOLDERS if f != skip_folder)
    older = [p for p in TraceTrainingData(data_dir, folders).pools() if p.start < before]
    own = [
        TracePool(
            HISTORY_FOLDER,
            f"{s.instance_type}.{s.az}",
            s.instance_type,
            s.az,
            s.start,
            timedelta(seconds=s.gap_seconds),
            s.counts,
        )
        for s in history
        if len(s.counts) > 1
    ]
    return older + own


def risk_training_samples(data_dir: Path, pools: Sequence[TracePool], before: datetime) -> list[Sample]:
    """§6.9 risk samples of ``pools`` whose label window ends by ``before`` (nothing of the window is seen)."""
    samples = _GivenPools(data_dir, pools).risk_samples()
    return [s for s in samples if s.label_end <= before]


def train_replay_estimator(
    data_dir: Path,
    history: Sequence[CountSeries],
    *,
    before: datetime,
    skip_folder: str,
    policy: PolicyDocument,
) -> TrainedReplayModel:
    pools = training_pools(data_dir, history, before, skip_folder)
    samples = risk_training_samples(data_dir, pools, before)
    if not samples:
        raise ValueError("no trace data before the replay window to train on")
    with tempfile.TemporaryDirectory(prefix="spotopt-replay-model-") as root:
        trainer = CatBoostModelTrainer(FileModelStore(Path(root)))
        window = TrainingWindow(min(s.at for s in samples).date(), max(s.at for s in samples).date())
        trained = trainer.fit_sync(
            ModelKind.INTERRUPTION_RISK, samples, policy.catboost_training, label="replay", window=window
        )
    predictor = CatBoostPredictor.load(trained.artifact, trained.manifest)
    estimator = CatBoostEstimator(RuleEstimator.for_policy(policy), {ModelKind.INTERRUPTION_RISK: predictor})
    return TrainedReplayModel(
        estimator=estimator,
        model=predictor.name,
        samples=tuple(samples),
        positives=sum(1 for s in samples if s.label > 0.5),
        folders=tuple(sorted({p.folder for p in pools})),
    )
