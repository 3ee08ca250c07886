"""Builders for the model tests: manifests, registered versions and an engine over stub predictors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from spotopt.adapters.ml.catboost_engine import CatBoostDecisionEngine
from spotopt.adapters.ml.catboost_models import Predictor
from spotopt.adapters.ml.executor import InferenceExecutor
from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.domain.decisions.features import CATEGORICAL_FEATURES, PRICE_FEATURES, RISK_FEATURES
from spotopt.domain.decisions.models import ModelKind, ModelManifest, ModelOrigin, ModelStatus, ModelVersion
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from tests.fakes.decisions import InMemoryModelArtifacts, InMemoryModelRegistry, StubPredictor

RISK = ModelKind.INTERRUPTION_RISK
PRICE = ModelKind.PRICE_FORECAST
CATBOOST = PolicyDocument(engine_kind=EngineKind.CATBOOST, policy_version="p7")
REGISTERED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def artifact_for(kind: ModelKind, n: int) -> bytes:
    return f"artefact {kind.value} {n}".encode()


def manifest_for(kind: ModelKind, n: int, artifact: bytes | None = None) -> ModelManifest:
    features = RISK_FEATURES if kind is RISK else PRICE_FEATURES
    data = artifact if artifact is not None else artifact_for(kind, n)
    return ModelManifest(
        kind=kind,
        features=features,
        content_hash=hashlib.sha256(data).hexdigest(),
        origin=ModelOrigin.UPLOADED,
        reference_row={f: ("x" if f in CATEGORICAL_FEATURES else 0.0) for f in features},
        label=f"{kind.value}-{n}",
    )


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@dataclass
class ModelWorld:
    """A registry, a store and the predictor each stored artefact loads as."""

    registry: InMemoryModelRegistry = field(default_factory=InMemoryModelRegistry)
    artifacts: InMemoryModelArtifacts = field(default_factory=InMemoryModelArtifacts)
    predictors: dict[str, Predictor] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)
    clock: FakeMonotonic = field(default_factory=FakeMonotonic)

    def add(self, predictor: Predictor, n: int, status: ModelStatus) -> ModelVersion:
        artifact = artifact_for(predictor.kind, n)
        version = ModelVersion(
            predictor.kind, n, manifest_for(predictor.kind, n), status, REGISTERED_AT, REGISTERED_AT + timedelta(n)
        )
        self.registry.versions.append(version)
        self.artifacts.items[version.content_hash] = artifact
        self.predictors[version.content_hash] = predictor
        return version

    def loader(self) -> Callable[[bytes, ModelManifest, str], Predictor]:
        def load(artifact: bytes, manifest: ModelManifest, name: str) -> Predictor:
            self.loads.append(name)
            return self.predictors[manifest.content_hash]

        return load

    def source(self) -> LiveModelSource:
        cached = CachedModelRegistry(self.registry, clock=self.clock)
        return LiveModelSource(cached, self.artifacts, loader=self.loader(), clock=self.clock)

    def engine(self, executor: InferenceExecutor | None = None) -> CatBoostDecisionEngine:
        return CatBoostDecisionEngine(self.source(), executor or InferenceExecutor(workers=2))


def live_pair(world: ModelWorld, risk: float = 0.12, log_ratio: float = 0.0) -> tuple[StubPredictor, StubPredictor]:
    risk_model = StubPredictor(RISK, "interruption_risk-v1", risk)
    price_model = StubPredictor(PRICE, "price_forecast-v1", log_ratio)
    world.add(risk_model, 1, ModelStatus.LIVE)
    world.add(price_model, 1, ModelStatus.LIVE)
    return risk_model, price_model
