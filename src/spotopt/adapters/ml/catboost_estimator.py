"""The CatBoost estimator (§6.9 serving rules) behind the ``Estimator`` port.

``risk = p`` from the ``interruption_risk`` model; ``forecast_price = current_price × exp(ŷ)`` from the
``price_forecast`` model. A component without a model, or whose model fails, is scored by the rule estimator
for the whole batch and marked ``fallback_used`` (DP-3, per component and per call).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from spotopt.adapters.ml.catboost_models import Predictor
from spotopt.domain.decisions.estimation import RULE_CONFIDENCE, PoolEstimate, PoolSnapshot, RuleEstimator
from spotopt.domain.decisions.features import FeatureRow, feature_rows
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.shared.money import round_price

log = logging.getLogger(__name__)

# The estimator confidence of model scores (DP-2); the rule estimator's is 0.60 (§6.8).
MODEL_CONFIDENCE = Decimal("0.80")
_RISK_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Scores:
    """One component's scores for a batch, in pool order, and the model version that produced them."""

    model: str
    values: tuple[float, ...]


def ordered_rows(pools: Sequence[PoolSnapshot], now: datetime) -> list[FeatureRow]:
    rows = feature_rows(pools, now)
    return [rows[p.pool_id] for p in pools]


def valid_scores(kind: ModelKind, model: str, values: Sequence[float], expected: int) -> Scores | None:
    """Scores usable for serving: one per pool, finite (and a probability for risk); else None (fallback)."""
    ok = len(values) == expected and all(math.isfinite(v) for v in values)
    if ok and kind is ModelKind.INTERRUPTION_RISK:
        ok = all(0.0 <= v <= 1.0 for v in values)
    if not ok:
        log.warning("model %s returned unusable scores; the rule estimator stands in", model)
        return None
    return Scores(model, tuple(values))


def combine(
    pools: Sequence[PoolSnapshot], rules: RuleEstimator, risk: Scores | None, price: Scores | None
) -> dict[str, PoolEstimate]:
    """Per pool, the model's component where scored and the rule estimator's otherwise."""
    fallback = risk is None or price is None
    confidence = RULE_CONFIDENCE if fallback else MODEL_CONFIDENCE
    out: dict[str, PoolEstimate] = {}
    for i, pool in enumerate(pools):
        ruled = rules.estimate_one(pool)
        out[pool.pool_id] = PoolEstimate(
            pool_id=pool.pool_id,
            risk=ruled.risk if risk is None else Decimal(risk.values[i]).quantize(_RISK_QUANTUM),
            forecast_price=ruled.forecast_price if price is None else _forecast(pool, price.values[i]),
            confidence=confidence,
            version=rules.version if risk is None else risk.model,
            price_version=rules.version if price is None else price.model,
            fallback_used=fallback,
        )
    return out


def _forecast(pool: PoolSnapshot, log_ratio: float) -> Decimal | None:
    """§6.9: ``current_price × exp(ŷ)``; an unpriced pool has no forecast."""
    if pool.price is None:
        return None
    forecast = round_price(pool.price * Decimal(math.exp(log_ratio)))
    return forecast if forecast > 0 else None


class CatBoostEstimator:
    """Synchronous ``Estimator`` over already loaded models (offline use: replay, benchmarks, training reports).

    The serving path with a time budget is ``CatBoostDecisionEngine``.
    """

    def __init__(self, rules: RuleEstimator, predictors: Mapping[ModelKind, Predictor | None]) -> None:
        self._rules = rules
        self._predictors = predictors

    def estimate(self, pools: Sequence[PoolSnapshot], now: datetime) -> dict[str, PoolEstimate]:
        if not pools:
            return {}
        rows = ordered_rows(pools, now)
        scored = {kind: self._score(kind, rows) for kind in ModelKind}
        return combine(pools, self._rules, scored[ModelKind.INTERRUPTION_RISK], scored[ModelKind.PRICE_FORECAST])

    def _score(self, kind: ModelKind, rows: list[FeatureRow]) -> Scores | None:
        predictor = self._predictors.get(kind)
        if predictor is None:
            return None
        try:
            values = predictor.predict(rows)
        except Exception:  # a failing model is a DP-3 fallback, never an error
            log.warning("model %s failed to score", predictor.name, exc_info=True)
            return None
        return valid_scores(kind, predictor.name, values, len(rows))
