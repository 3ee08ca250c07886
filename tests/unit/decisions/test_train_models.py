"""The model trainer use case with fakes: DP-8 – DP-13 and the §7.2 trainer events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.application.decisions.train_models import TrainingOutcome, TrainModels, TrainModelsCommand
from spotopt.domain.decisions.estimation import PoolSnapshot
from spotopt.domain.decisions.features import feature_rows
from spotopt.domain.decisions.models import ModelKind, ModelStatus
from spotopt.domain.decisions.policy import CatBoostTraining, PolicyDocument
from spotopt.domain.decisions.training import Sample
from tests.fakes.decisions import (
    InMemoryModelArtifacts,
    InMemoryModelRegistry,
    InMemoryTrainingData,
    ScoreFn,
    StubModelTrainer,
)
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
RISK = ModelKind.INTERRUPTION_RISK
PRICE = ModelKind.PRICE_FORECAST
STEP = timedelta(minutes=30)
POOL = PoolSnapshot("t3.medium.us-east-1a", "t3.medium", "us-east-1", "us-east-1a", available=True)
ROW = feature_rows([POOL], NOW)[POOL.pool_id]


def risk_samples(days: int = 120, *, every: int = 20, pool: str = "t3.medium.us-east-1a") -> list[Sample]:
    """One sample per 30 min over ``days`` up to now; every ``every``-th is positive."""
    count = days * 48
    start = NOW - count * STEP - timedelta(hours=2)
    return [
        Sample(pool_id=pool, at=start + k * STEP, features=ROW, label=1.0 if k % every == 0 else 0.0)
        for k in range(count)
    ]


def price_samples(days: int = 120) -> list[Sample]:
    step = timedelta(minutes=10)
    count = days * 144
    start = NOW - count * step - timedelta(hours=2)
    return [
        Sample(pool_id="p", at=start + k * step, features=ROW, label=0.02 if k % 2 else -0.02) for k in range(count)
    ]


def knows_labels(_: bytes, sample: Sample) -> float:
    """A candidate that has learnt the labels well."""
    if sample.label in (0.0, 1.0):
        return 0.8 if sample.label else 0.02
    return sample.label * 0.9


def coin_flip(_: bytes, sample: Sample) -> float:
    return 0.5


class World:
    def __init__(self, samples: dict[ModelKind, list[Sample]], score_of: ScoreFn = knows_labels) -> None:
        self.uow = InMemoryUnitOfWork()
        self.registry = InMemoryModelRegistry()
        self.artifacts = InMemoryModelArtifacts()
        self.data = InMemoryTrainingData(samples)
        self.trainer = StubModelTrainer(score_of)
        self.policy = PolicyDocument(catboost_training=CatBoostTraining(iterations=50, seed=7, thread_count=1))

    def sut(self) -> TrainModels:
        return TrainModels(
            self.uow,
            FixedClock(NOW),
            BuiltinPolicyStore(self.policy),
            self.data,
            self.trainer,
            self.artifacts,
            self.registry,
        )

    def events(self) -> list[tuple[str, str]]:
        return [(e.type, str(e.metadata["kind"])) for e in self.uow.store.events]


async def test_dp9_too_little_data_skips_with_the_reason_and_registers_nothing() -> None:
    world = World({RISK: risk_samples(days=20)})
    result = await world.sut().execute(TrainModelsCommand(kinds=(RISK, PRICE)))
    assert [(r.kind, r.outcome, r.reason) for r in result.results] == [
        (RISK, TrainingOutcome.SKIPPED, "insufficient_data"),
        (PRICE, TrainingOutcome.SKIPPED, "insufficient_data"),
    ]
    assert world.events() == [("training_skipped", "interruption_risk"), ("training_skipped", "price_forecast")]
    risk_event = world.uow.store.events[0]
    assert risk_event.metadata["reason"] == "insufficient_data"
    assert "training samples (need 5000)" in str(risk_event.metadata["detail"])
    assert world.registry.versions == []
    assert world.trainer.fits == []
    assert world.uow.commits == 1


async def test_dp13_a_candidate_better_than_the_rule_estimator_goes_live() -> None:
    world = World({RISK: risk_samples()})
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert (result.outcome, result.version) == (TrainingOutcome.PROMOTED, 1)
    (version,) = world.registry.versions
    assert version.status is ModelStatus.LIVE
    assert version.manifest.metrics["log_loss"] < version.manifest.metrics["reference_log_loss"]
    assert set(version.manifest.metrics) == {
        "log_loss",
        "pr_auc",
        "brier",
        "reference_log_loss",
        "reference_pr_auc",
        "reference_brier",
    }
    assert world.artifacts.items[version.content_hash]
    assert world.events() == [
        ("model_candidate_registered", "interruption_risk"),
        ("model_promoted", "interruption_risk"),
    ]
    assert "promoted over the rule estimator" in world.uow.store.events[1].message


async def test_dp13_a_worse_candidate_is_rejected_with_its_metrics_and_nothing_goes_live() -> None:
    world = World({RISK: risk_samples()}, score_of=coin_flip)
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert result.outcome is TrainingOutcome.REJECTED
    (version,) = world.registry.versions
    assert version.status is ModelStatus.REJECTED
    assert version.manifest.metrics["log_loss"] == pytest.approx(0.6931, abs=1e-4)
    assert (await world.registry.live())[RISK].live is None
    assert [t for t, _ in world.events()] == ["model_candidate_registered", "model_rejected"]


async def test_dp12_with_a_live_model_the_reference_is_that_model_rescored_on_the_same_holdout() -> None:
    world = World({RISK: risk_samples()})
    await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))
    first = world.registry.versions[0]
    # New data, and a new candidate that scores like a coin while the live model keeps its quality.
    world.data.samples_by_kind[RISK] = risk_samples(every=19)

    def live_is_better(artifact: bytes, sample: Sample) -> float:
        return knows_labels(artifact, sample) if artifact == world.artifacts.items[first.content_hash] else 0.5

    world.trainer.score_of = live_is_better
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert result.outcome is TrainingOutcome.REJECTED
    # The candidate, then the live model, each scored on the same 332 holdout samples (7 days up to 2 h 30 ago).
    assert [n for _, n in world.trainer.scored[-2:]] == [332, 332]
    assert world.trainer.scored[-1][0] == first.content_hash
    assert "not better than interruption_risk-v1" in world.uow.store.events[-1].message
    assert (await world.registry.live())[RISK].live == first


async def test_dp8_dp10_the_trainer_sees_training_samples_only_with_the_policys_parameters() -> None:
    world = World({RISK: risk_samples()})
    await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))
    ((kind, trained_on, params),) = world.trainer.fits
    # 332 holdout samples; the 4 samples of the 2 h before the holdout are in neither set (their labels overlap it).
    assert (kind, trained_on) == (RISK, 120 * 48 - 332 - 4)
    assert params == world.policy.catboost_training
    (version,) = world.registry.versions
    assert version.manifest.training_window is not None
    assert version.manifest.training_window.end == (NOW - timedelta(days=7)).date()
    assert world.data.requests == [(RISK, NOW - timedelta(days=180), NOW)]


async def test_dp11_an_artefact_failing_its_smoke_test_is_never_registered() -> None:
    world = World({RISK: risk_samples()})
    world.artifacts.smoke_test_fails = True
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert (result.outcome, result.reason) == (TrainingOutcome.REJECTED, "smoke_test_failed")
    assert world.registry.versions == []
    assert world.events() == [("model_rejected", "interruption_risk")]


async def test_a_rerun_over_the_same_data_changes_nothing() -> None:
    world = World({RISK: risk_samples()})
    await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))
    events = len(world.uow.store.events)
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert (result.outcome, result.version) == (TrainingOutcome.UNCHANGED, 1)
    assert len(world.registry.versions) == 1
    assert len(world.uow.store.events) == events


async def test_dp13_price_candidate_must_beat_the_no_change_forecast() -> None:
    world = World({PRICE: price_samples()})
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(PRICE,)))).results
    assert result.outcome is TrainingOutcome.PROMOTED
    assert result.metrics["mae"] == pytest.approx(0.002)
    assert result.metrics["no_change_mae"] == pytest.approx(0.02)
    world2 = World({PRICE: price_samples()}, score_of=lambda _, s: 0.0)
    (rejected,) = (await world2.sut().execute(TrainModelsCommand(kinds=(PRICE,)))).results
    assert rejected.outcome is TrainingOutcome.REJECTED


async def test_a_dataset_with_its_own_end_is_split_at_that_end() -> None:
    end = NOW - timedelta(days=400)
    samples = [
        Sample(pool_id=s.pool_id, at=s.at - timedelta(days=400), features=s.features, label=s.label)
        for s in risk_samples()
    ]
    world = World({RISK: samples})
    (result,) = (await world.sut().execute(TrainModelsCommand(kinds=(RISK,), window_end=end))).results
    assert result.outcome is TrainingOutcome.PROMOTED
    assert world.data.requests == [(RISK, end - timedelta(days=180), end)]
