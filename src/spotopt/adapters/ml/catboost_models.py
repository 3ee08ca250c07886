"""Loading and scoring CatBoost artefacts (§6.9): the ``.cbm`` binary format only, validated against its manifest."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Protocol

from catboost import CatBoost, CatBoostError

from spotopt.adapters.ml.frame import check_columns, pool
from spotopt.domain.decisions.features import FeatureRow
from spotopt.domain.decisions.models import ModelInvalidError, ModelKind, ModelManifest

CBM_MAGIC = b"CBM1"
SMOKE_TOLERANCE = 1e-6
_LOSSES = {ModelKind.INTERRUPTION_RISK: {"Logloss", "CrossEntropy"}, ModelKind.PRICE_FORECAST: {"RMSE"}}
# A price model's output is a log ratio; beyond ±5 (a factor of ~150 in two hours) it is not a forecast.
MAX_LOG_RATIO = 5.0


class Predictor(Protocol):
    """A loaded model of one kind: ``predict`` returns one score per row (risk: probability; price: ``ŷ``).

    ``name`` is the model version recorded on decisions. ``predict`` may be slow or raise; callers bound it.
    """

    @property
    def kind(self) -> ModelKind: ...

    @property
    def name(self) -> str: ...

    def predict(self, rows: Sequence[FeatureRow]) -> list[float]: ...


def content_hash(artifact: bytes) -> str:
    return hashlib.sha256(artifact).hexdigest()


class CatBoostPredictor:
    """A CatBoost model bound to its manifest; loading checks format, hash, loss, columns and the smoke test."""

    def __init__(self, model: CatBoost, manifest: ModelManifest, name: str) -> None:
        self._model = model
        self._manifest = manifest
        self._name = name

    @classmethod
    def load(cls, artifact: bytes, manifest: ModelManifest, name: str | None = None) -> CatBoostPredictor:
        """DP-11 / DP-21 validation; raises ``ModelInvalidError`` with the reason."""
        if content_hash(artifact) != manifest.content_hash:
            raise ModelInvalidError("content hash does not match the manifest")
        if not artifact.startswith(CBM_MAGIC):
            raise ModelInvalidError("not a CatBoost binary model (.cbm)")
        model = CatBoost()
        try:
            model.load_model(blob=artifact)
        except CatBoostError as exc:
            raise ModelInvalidError(f"CatBoost cannot load it: {str(exc).splitlines()[0][:200]}") from None
        loss = str(model.get_all_params().get("loss_function", ""))
        if loss not in _LOSSES[manifest.kind]:
            raise ModelInvalidError(f"loss {loss or 'unknown'} does not fit a {manifest.kind.value} model")
        check_columns(model, manifest)
        predictor = cls(model, manifest, name or f"{manifest.kind.value}-{manifest.content_hash[:12]}")
        predictor.smoke_test()
        return predictor

    @property
    def kind(self) -> ModelKind:
        return self._manifest.kind

    @property
    def name(self) -> str:
        return self._name

    @property
    def manifest(self) -> ModelManifest:
        return self._manifest

    def predict(self, rows: Sequence[FeatureRow]) -> list[float]:
        if not rows:
            return []
        data = pool(self._manifest, rows)
        if self.kind is ModelKind.INTERRUPTION_RISK:
            return [float(p[1]) for p in self._model.predict(data, prediction_type="Probability", thread_count=1)]
        return [float(y) for y in self._model.predict(data, prediction_type="RawFormulaVal", thread_count=1)]

    def smoke_test(self) -> None:
        """DP-11: the reference row scores finite and in range, and as the manifest expects when it says."""
        try:
            (score,) = self.predict([self._manifest.reference_row])
        except (CatBoostError, ValueError, TypeError) as exc:
            raise ModelInvalidError(f"the reference row cannot be scored: {str(exc).splitlines()[0][:200]}") from None
        check_score(self.kind, score)
        expected = self._manifest.expected_score
        if expected is not None and abs(score - expected) > SMOKE_TOLERANCE * max(1.0, abs(expected)):
            raise ModelInvalidError(f"the reference row scores {score:.8g}, the manifest expects {expected:.8g}")


def check_score(kind: ModelKind, score: float) -> None:
    if not math.isfinite(score):
        raise ModelInvalidError("the model scores a non-finite value")
    if kind is ModelKind.INTERRUPTION_RISK and not 0.0 <= score <= 1.0:
        raise ModelInvalidError("the risk model scores outside [0, 1]")
    if kind is ModelKind.PRICE_FORECAST and abs(score) > MAX_LOG_RATIO:
        raise ModelInvalidError("the price model scores an implausible log ratio")
