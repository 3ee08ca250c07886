"""``ModelTrainer`` with CatBoost (DP-10): fixed seed, parameters from the policy document, bounded threads, and
no file written outside the model store's scratch directory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from collections.abc import Sequence

from catboost import CatBoost, CatBoostClassifier, CatBoostRegressor

from spotopt.adapters.ml.catboost_models import CatBoostPredictor, content_hash
from spotopt.adapters.ml.frame import pool
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.application.ports.decisions import TrainedModel
from spotopt.domain.decisions.features import PRICE_FEATURES, RISK_FEATURES
from spotopt.domain.decisions.models import ModelKind, ModelManifest, ModelOrigin, TrainingWindow
from spotopt.domain.decisions.policy import CatBoostTraining
from spotopt.domain.decisions.training import Sample
from spotopt.domain.shared.errors import InvalidValueError

_PLACEHOLDER_HASH = "0" * 64


def canonical_features(kind: ModelKind) -> tuple[str, ...]:
    return RISK_FEATURES if kind is ModelKind.INTERRUPTION_RISK else PRICE_FEATURES


class CatBoostModelTrainer:
    def __init__(self, store: FileModelStore) -> None:
        self._store = store

    async def fit(
        self,
        kind: ModelKind,
        training: Sequence[Sample],
        params: CatBoostTraining,
        *,
        label: str,
        window: TrainingWindow,
    ) -> TrainedModel:
        return await asyncio.to_thread(self.fit_sync, kind, training, params, label=label, window=window)

    def fit_sync(
        self,
        kind: ModelKind,
        training: Sequence[Sample],
        params: CatBoostTraining,
        *,
        label: str,
        window: TrainingWindow,
    ) -> TrainedModel:
        if not training:
            raise InvalidValueError("training", "needs at least one sample")
        # The reference row is the first training sample, so the smoke test uses a row of the real distribution.
        features = canonical_features(kind)
        draft = ModelManifest(
            kind=kind,
            features=features,
            content_hash=_PLACEHOLDER_HASH,
            origin=ModelOrigin.TRAINED,
            reference_row={name: training[0].features.get(name) for name in features},
            label=label,
            training_window=window,
        )
        model = _estimator(kind, params)
        model.fit(pool(draft, [s.features for s in training], [s.label for s in training]))
        artifact = self._serialise(model)
        manifest = dataclasses.replace(draft, content_hash=content_hash(artifact))
        (expected,) = CatBoostPredictor.load(artifact, manifest).predict([manifest.reference_row])
        return TrainedModel(artifact=artifact, manifest=dataclasses.replace(manifest, expected_score=expected))

    async def score(self, artifact: bytes, manifest: ModelManifest, samples: Sequence[Sample]) -> list[float]:
        return await asyncio.to_thread(self.score_sync, artifact, manifest, samples)

    def score_sync(self, artifact: bytes, manifest: ModelManifest, samples: Sequence[Sample]) -> list[float]:
        return CatBoostPredictor.load(artifact, manifest).predict([s.features for s in samples])

    def _serialise(self, model: CatBoost) -> bytes:
        fd, path = tempfile.mkstemp(dir=self._store.scratch, prefix=".model-", suffix=".cbm")
        os.close(fd)
        try:
            model.save_model(path, format="cbm")
            with open(path, "rb") as handle:
                return handle.read()
        finally:
            os.unlink(path)


def _estimator(kind: ModelKind, params: CatBoostTraining) -> CatBoost:
    common = {
        "iterations": params.iterations,
        "depth": params.depth,
        "learning_rate": float(params.learning_rate),
        "l2_leaf_reg": float(params.l2_leaf_reg),
        "random_seed": params.seed,
        "thread_count": params.thread_count,
        "verbose": False,
        "allow_writing_files": False,
    }
    if kind is ModelKind.INTERRUPTION_RISK:
        return CatBoostClassifier(loss_function="Logloss", **common)
    return CatBoostRegressor(loss_function="RMSE", **common)
