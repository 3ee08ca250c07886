"""The composition root serves a catboost policy with the live model under MODEL_DIR, and shuts the inference
executor down with the container.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.executor import InferenceBusyError, InferenceExecutor
from spotopt.adapters.persistence.repositories.model_registry import SqlModelRegistry
from spotopt.application.ports.decisions import DecisionEngine, ModelArtifacts, ModelRegistry, ModelSessions
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.database import upgrade_database
from spotopt.bootstrap.settings import Settings
from spotopt.domain.decisions.estimation import PoolSnapshot
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from tests.integration.ml.tiny import train_tiny
from tests.services import sqlite_url

NOW = datetime(2026, 11, 28, tzinfo=UTC)


async def test_a_live_model_in_model_dir_serves_catboost_policies(tmp_path: Path) -> None:
    settings = Settings(database_url=sqlite_url(tmp_path), data_dir=tmp_path, model_dir=tmp_path / "models")
    upgrade_database(settings)
    container = make_container(settings)
    try:
        trained = train_tiny(tmp_path / "scratch")
        await (await container.get(ModelArtifacts)).put(trained.artifact, trained.manifest)
        registry = await container.get(ModelRegistry)
        version = await registry.register_candidate(trained.manifest, NOW)
        await registry.activate(ModelKind.INTERRUPTION_RISK, version.version, NOW)
        engine = await container.get(DecisionEngine)
        assert isinstance(engine, CatBoostDecisionEngine)
        pools = [PoolSnapshot(f"t3.medium.us-east-1{z}", "t3.medium", "us-east-1", f"us-east-1{z}", True) for z in "ab"]
        policy = PolicyDocument(engine_kind=EngineKind.CATBOOST, policy_version="p2")
        estimates = await engine.estimate(pools, policy, NOW, budget_seconds=0.2)
        assert {e.version for e in estimates.values()} == {"interruption_risk-v1"}
        assert {e.price_model_version for e in estimates.values()} == {"rules-p2"}
        assert isinstance(await container.get(SqlModelRegistry), SqlModelRegistry)  # the registry is the database's
        assert (await (await container.get(ModelSessions)).list_sessions(frozenset(), 10, 0))[1] == 1
        executor = await container.get(InferenceExecutor)
    finally:
        await container.close()
    with pytest.raises(InferenceBusyError):
        await executor.run(lambda: None, 1)
