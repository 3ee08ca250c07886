"""The decision engine and the model store, registry and trainer behind it (APP scope, house style §8 and §12)."""

from __future__ import annotations

from collections.abc import Iterator

from dishka import Provider, Scope, provide

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_trainer import CatBoostModelTrainer
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.file_registry import FileModelRegistry
from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.application.ports.decisions import DecisionEngine, ModelArtifacts, ModelRegistry, ModelTrainer
from spotopt.bootstrap.settings import Settings


class ModelsProvider(Provider):
    scope = Scope.APP
    decision_engine = provide(CatBoostDecisionEngine, provides=DecisionEngine)
    trainer = provide(CatBoostModelTrainer, provides=ModelTrainer)

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
    def cached_registry(self, settings: Settings) -> CachedModelRegistry:
        """DP-22: every reader sees the live pointers through one ≤ 5 s cache per process."""
        return CachedModelRegistry(FileModelRegistry(settings.model_dir))

    @provide
    def model_registry(self, registry: CachedModelRegistry) -> ModelRegistry:
        return registry

    @provide
    def live_models(self, registry: CachedModelRegistry, store: FileModelStore) -> LiveModelSource:
        return LiveModelSource(registry, store)
