"""Holdout metrics (DP-12) and the promotion gate (DP-13), pure and deterministic."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spotopt.domain.decisions.features import FeatureValue
from spotopt.domain.decisions.policy import RuleEstimatorWeights
from spotopt.domain.shared.errors import InvalidValueError

_EPSILON = 1e-15
GATE_IMPROVEMENT = 0.99
PR_AUC_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    log_loss: float
    pr_auc: float
    brier: float

    def as_dict(self) -> dict[str, float]:
        return {"log_loss": self.log_loss, "pr_auc": self.pr_auc, "brier": self.brier}


@dataclass(frozen=True, slots=True)
class PriceMetrics:
    mae: float

    def as_dict(self) -> dict[str, float]:
        return {"mae": self.mae}


def _check(labels: Sequence[float], scores: Sequence[float]) -> None:
    if len(labels) != len(scores) or not labels:
        raise InvalidValueError("holdout", "needs as many scores as labels, at least one")
    if not all(math.isfinite(s) for s in scores):
        raise InvalidValueError("scores", "must be finite")


def log_loss(labels: Sequence[float], probabilities: Sequence[float]) -> float:
    _check(labels, probabilities)
    total = 0.0
    for y, p in zip(labels, probabilities, strict=True):
        q = min(1 - _EPSILON, max(_EPSILON, p))
        total -= y * math.log(q) + (1 - y) * math.log(1 - q)
    return total / len(labels)


def brier(labels: Sequence[float], probabilities: Sequence[float]) -> float:
    _check(labels, probabilities)
    return sum((p - y) ** 2 for y, p in zip(labels, probabilities, strict=True)) / len(labels)


def pr_auc(labels: Sequence[float], scores: Sequence[float]) -> float:
    """Area under the precision-recall curve as average precision: sum of precision × recall gained, taking
    tied scores as one threshold (so the value does not depend on the order of ties). 0 without positives.
    """
    _check(labels, scores)
    positives = sum(1 for y in labels if y > 0.5)
    if positives == 0:
        return 0.0
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    area, true_pos, seen, i = 0.0, 0, 0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        gained = sum(1 for _, y in pairs[i:j] if y > 0.5)
        true_pos, seen = true_pos + gained, seen + (j - i)
        area += (gained / positives) * (true_pos / seen)
        i = j
    return area


def risk_metrics(labels: Sequence[float], probabilities: Sequence[float]) -> RiskMetrics:
    return RiskMetrics(log_loss(labels, probabilities), pr_auc(labels, probabilities), brier(labels, probabilities))


def mean_absolute_error(labels: Sequence[float], predictions: Sequence[float]) -> float:
    _check(labels, predictions)
    return sum(abs(p - y) for y, p in zip(labels, predictions, strict=True)) / len(labels)


def risk_promoted(candidate: RiskMetrics, reference: RiskMetrics) -> bool:
    """DP-13: log loss at least 1 % better and PR-AUC not worse by more than 0.01."""
    return (
        candidate.log_loss <= GATE_IMPROVEMENT * reference.log_loss
        and candidate.pr_auc >= reference.pr_auc - PR_AUC_TOLERANCE
    )


def price_promoted(candidate: PriceMetrics, reference: PriceMetrics, no_change: PriceMetrics) -> bool:
    """DP-13: MAE at least 1 % better than the reference and strictly better than the no-change forecast."""
    return candidate.mae <= GATE_IMPROVEMENT * reference.mae and candidate.mae < no_change.mae


def rule_risk(features: Mapping[str, FeatureValue], weights: RuleEstimatorWeights) -> float:
    """§6.8 risk from a sample's fleet features: the DP-12 reference when no risk model is live."""

    def count(name: str) -> float:
        value = features.get(name)
        return value if isinstance(value, float) else 0.0

    t24, t7, r24 = count("terminations_24h"), count("terminations_7d"), count("rebalances_24h")
    score = float(weights.base) + float(weights.t24) * t24 + float(weights.t7) * (t7 - t24) + float(weights.r24) * r24
    return min(1.0, score)
