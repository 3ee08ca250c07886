"""The decision engine, the policy documents and the model store, registry and trainer behind it (APP scope,
house style §8 and §12), and the model and policy use cases (REQUEST scope).
"""

from __future__ import annotations

from collections.abc import Iterator

from dishka import Provider, Scope, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.engine_status import LiveEngineStatus
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.live_models import CachedModelRegistry, InvalidatingSessions, LiveModelSource
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.adapters.persistence.repositories.model_registry import SqlModelRegistry
from spotopt.adapters.policy_store import CachedPolicyStore, SqlPolicyStore
from spotopt.application.decisions.activate_fallback_models import ActivateFallbackModels
from spotopt.application.decisions.activate_model_session import ActivateModelSession
from spotopt.application.decisions.list_model_sessions import ListModelSessions
from spotopt.application.decisions.upload_model_session import UploadModelSession
from spotopt.application.decisions.upload_policy_document import UploadPolicyDocument
from spotopt.application.ports.decisions import (
    DecisionEngine,
    EngineStatus,
    ModelArtifacts,
    ModelRegistry,
    ModelSessions,
    ModelTrainer,
    PolicyStore,
    PolicyVersions,
)
from spotopt.bootstrap.settings import Settings


class ModelsProvider(Provider):
    scope = Scope.APP
    decision_engine = provide(CatBoostDecisionEngine, provides=DecisionEngine)
    trainer = provide(CatBoostModelTrainer, provides=ModelTrainer)
    engine_status = provide(LiveEngineStatus, provides=EngineStatus)

    @provide
    def inference_executor(self) -> Iterator[InferenceExecutor]:
        executor = InferenceExecutor()
        yield executor
        executor.close()

    @provide
    def model_store(self, settings: Settings) -> FileModelStore:
        return FileModelStore(settings.model_dir)

    @provide
    def model_artifacts(self, store: FileModelStore) -> ModelArtifacts:
        return store

    @provide
    def sql_registry(self, sessionmaker: async_sessionmaker[AsyncSession]) -> SqlModelRegistry:
        """The fleet-wide registry in the database (DP-19 – DP-21): every API and worker process shares it."""
        return SqlModelRegistry(sessionmaker)

    @provide
    def model_sessions(self, registry: SqlModelRegistry, cache: CachedModelRegistry) -> ModelSessions:
        return InvalidatingSessions(registry, cache)

    @provide
    def cached_registry(self, registry: SqlModelRegistry) -> CachedModelRegistry:
        """DP-22: every reader sees the live pointers through one ≤ 5 s cache per process."""
        return CachedModelRegistry(registry)

    @provide
    def model_registry(self, registry: CachedModelRegistry) -> ModelRegistry:
        return registry

    @provide
    def live_models(self, registry: CachedModelRegistry, store: FileModelStore) -> LiveModelSource:
        return LiveModelSource(registry, store)

    @provide
    def cached_policies(self, sessionmaker: async_sessionmaker[AsyncSession]) -> CachedPolicyStore:
        """DP-18 / DP-22: the stored policy documents, read through one ≤ 5 s cache per process."""
        return CachedPolicyStore(SqlPolicyStore(sessionmaker))

    @provide
    def policy_store(self, policies: CachedPolicyStore) -> PolicyStore:
        return policies

    @provide
    def policy_versions(self, policies: CachedPolicyStore) -> PolicyVersions:
        return policies


class ModelUseCasesProvider(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(
        UploadModelSession,
        ActivateModelSession,
        ActivateFallbackModels,
        ListModelSessions,
        UploadPolicyDocument,
    )
