"""``--from-traces``: the trainer builds the §6.9 risk dataset from the public spot traces and runs the whole
DP-8 – DP-13 path with the real CatBoost trainer. Skips when ../shared/data is absent.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.file_registry import FileModelRegistry
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.ml.traces import TRACE_FOLDERS, TraceTrainingData
from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.application.decisions.train_models import TrainingOutcome, TrainModels, TrainModelsCommand
from spotopt.domain.decisions.features import RISK_FEATURES
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import PolicyDocument
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork
from tests.integration.ml.tiny import PARAMS
from tests.shared_data import shared_data_dir


@pytest.fixture(scope="module")
def traces() -> TraceTrainingData:
    root = shared_data_dir()
    data = TraceTrainingData(root) if root is not None else None
    if data is None or not data.available():
        pytest.skip(f"public spot traces not found (need {', '.join(TRACE_FOLDERS)} under ../shared/data)")
    return data


async def test_the_trace_dataset_trains_a_risk_model_and_skips_the_price_model(
    traces: TraceTrainingData, tmp_path: Path
) -> None:
    store, registry = FileModelStore(tmp_path), FileModelRegistry(tmp_path)
    uow = InMemoryUnitOfWork()
    sut = TrainModels(
        uow,
        FixedClock(),
        BuiltinPolicyStore(PolicyDocument(catboost_training=PARAMS)),
        traces,
        CatBoostModelTrainer(store),
        store,
        registry,
    )
    results = (await sut.execute(TrainModelsCommand(window_end=traces.window_end))).results
    risk, price = results
    assert risk.kind is ModelKind.INTERRUPTION_RISK
    assert risk.outcome in (TrainingOutcome.PROMOTED, TrainingOutcome.REJECTED), risk
    assert risk.counts["training"] >= 5000
    assert risk.counts["holdout_positives"] >= 10
    assert {"log_loss", "pr_auc", "brier", "reference_log_loss"} <= set(risk.metrics)
    assert (price.outcome, price.reason) == (TrainingOutcome.SKIPPED, "insufficient_data")
    (version,) = await registry.list_versions(ModelKind.INTERRUPTION_RISK)
    assert version.manifest.features == RISK_FEATURES
    assert version.manifest.training_window is not None
    assert version.manifest.training_window.end == (traces.window_end - timedelta(days=7)).date()


async def test_trace_samples_use_only_the_past(traces: TraceTrainingData) -> None:
    end = traces.window_end
    samples = await traces.samples(ModelKind.INTERRUPTION_RISK, end.replace(year=end.year - 2), end)
    assert len(samples) > 10_000
    assert all(set(RISK_FEATURES) <= set(s.features) for s in samples[:100])
    for s in samples:
        since = s.features["hours_since_last_termination"]
        assert since is None or (isinstance(since, float) and since >= 0)
        assert s.label in (0.0, 1.0)
        assert s.label_end <= end
