"""End to end with real parts: the trainer fits a small CatBoost model, the gate promotes it into the file registry
and store, the catboost engine serves decisions with it, and a corrupt artefact falls back to the rule estimator.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.file_registry import FileModelRegistry
from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.application.decisions.decision_inputs import DecisionInputs
from spotopt.application.decisions.train_models import TrainingOutcome, TrainModels, TrainModelsCommand
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.decisions.models import ModelKind, ModelStatus
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from tests.factories.decisions import NOW, make_agent, seed_market
from tests.fakes.decisions import InMemoryTrainingData
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork
from tests.integration.ml.tiny import PARAMS, synthetic_samples

RISK = ModelKind.INTERRUPTION_RISK


async def test_a_promoted_model_serves_decisions_until_its_artefact_breaks(tmp_path: Path) -> None:
    store, registry = FileModelStore(tmp_path), FileModelRegistry(tmp_path)
    samples = synthetic_samples(RISK, 6400, start=NOW - timedelta(minutes=30 * 6400 + 150))
    policy = PolicyDocument(engine_kind=EngineKind.CATBOOST, policy_version="p1", catboost_training=PARAMS)
    uow = InMemoryUnitOfWork()
    train = TrainModels(
        uow,
        FixedClock(NOW),
        BuiltinPolicyStore(policy),
        InMemoryTrainingData({RISK: samples}),
        CatBoostModelTrainer(store),
        store,
        registry,
    )
    (result,) = (await train.execute(TrainModelsCommand(kinds=(RISK,)))).results
    assert result.outcome is TrainingOutcome.PROMOTED, result
    assert result.metrics["log_loss"] <= 0.99 * result.metrics["reference_log_loss"]
    (version,) = await registry.list_versions(RISK)
    assert version.status is ModelStatus.LIVE
    assert {e.type for e in uow.store.events} == {"model_candidate_registered", "model_promoted"}
    # DP-10: nothing outside the model store (CatBoost writes no catboost_info, the scratch directory is empty).
    assert sorted(os.listdir(tmp_path)) == ["artifacts", "registry.json", "registry.lock", "tmp"]
    assert os.listdir(tmp_path / "tmp") == []

    market = InMemoryUnitOfWork()
    agent = make_agent()
    await market.agents.add(agent)
    await seed_market(market)
    inp = await DecisionInputs(market).for_agent(agent, trigger=Trigger.EVALUATOR, now=NOW, features=True)
    executor = InferenceExecutor()
    try:
        engine = CatBoostDecisionEngine(LiveModelSource(CachedModelRegistry(registry), store), executor)
        decision = await engine.decide(inp, policy, NOW)
        assert decision.risk_model_version == "interruption_risk-v1"
        assert decision.price_model_version == "rules-p1"  # no price model: that component falls back
        assert decision.fallback_used
        assert all(c.risk is not None and 0 <= c.risk <= 1 for c in decision.candidates)

        path = store.artifact_path(version.content_hash)
        os.chmod(path, 0o644)
        path.write_bytes(b"CBM1 broken")
        fresh = CatBoostDecisionEngine(LiveModelSource(CachedModelRegistry(registry), store), executor)
        broken = await fresh.decide(inp, policy, NOW)
        assert broken.risk_model_version == "rules-p1"
        assert broken.fallback_used
    finally:
        executor.close()
