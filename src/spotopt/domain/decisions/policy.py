"""The decision-policy document (domain §6.11 DP-17; api M18 keys and ranges)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.shared.errors import InvalidValueError

BUILTIN_POLICY_VERSION = "builtin"
# Pitfall 15: evaluator commands stay below a manual override (priority 75).
MAX_EVALUATOR_PRIORITY = 74
MAX_NOTES_LENGTH = 1000

Number = Decimal | int


class EngineKind(StrEnum):
    RULES = "rules"
    CATBOOST = "catboost"


def _check_ranges(prefix: str, checks: Sequence[tuple[str, Number, Number, Number]]) -> None:
    for name, value, low, high in checks:
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidValueError(f"{prefix}{name}", "must be a finite number")
        if not low <= value <= high:
            raise InvalidValueError(f"{prefix}{name}", f"must be between {low} and {high}")


@dataclass(frozen=True, slots=True)
class RuleEstimatorWeights:
    """§6.8 weights of the rule estimator; each in [0, 1] (M18)."""

    base: Decimal = Decimal("0.05")
    t24: Decimal = Decimal("0.25")
    t7: Decimal = Decimal("0.05")
    r24: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        _check_ranges("rule_estimator.", [(f.name, getattr(self, f.name), 0, 1) for f in fields(self)])


@dataclass(frozen=True, slots=True)
class EvaluatorPriorities:
    """Command priorities of the auto-switch evaluator; each in [1, 74] (pitfall 15: never >= 75)."""

    savings: int = 25
    risk: int = 50
    return_to_spot: int = 25

    def __post_init__(self) -> None:
        checks = [(f.name, getattr(self, f.name), 1, MAX_EVALUATOR_PRIORITY) for f in fields(self)]
        _check_ranges("evaluator_priorities.", checks)


@dataclass(frozen=True, slots=True)
class EstimatorBudgets:
    """DP-3 time budgets of the estimator in milliseconds; each in [1, 5000]."""

    decision: int = 200
    emergency: int = 50

    def __post_init__(self) -> None:
        _check_ranges("estimator_budgets_ms.", [(f.name, getattr(self, f.name), 1, 5000) for f in fields(self)])


@dataclass(frozen=True, slots=True)
class CatBoostTraining:
    """DP-10 fixed training parameters (M18 ranges; the seed is any integer).

    The defaults are the shallow, strongly regularised trees that did best on the calibration part of the public
    traces (``bench/ml/risk_f1.py``; docs/benchmarks.md).
    """

    iterations: int = 300
    depth: int = 4
    learning_rate: Decimal = Decimal("0.05")
    l2_leaf_reg: Decimal = Decimal(10)
    seed: int = 42
    thread_count: int = 2

    def __post_init__(self) -> None:
        _check_ranges(
            "catboost_training.",
            [
                ("iterations", self.iterations, 10, 5000),
                ("depth", self.depth, 1, 10),
                ("learning_rate", self.learning_rate, Decimal("0.001"), 1),
                ("l2_leaf_reg", self.l2_leaf_reg, 0, 100),
                ("thread_count", self.thread_count, 1, 16),
            ],
        )


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """DP-17: the active decision-policy document (data, never code), identified by ``policy_version``."""

    engine_kind: EngineKind = EngineKind.RULES
    default_thresholds: Thresholds = field(default_factory=Thresholds)
    blocklist_hours: int = 24
    price_freshness_minutes: int = 15
    min_price_confidence: Decimal = Decimal("0.70")
    tie_tolerance_percent: Decimal = Decimal("0.5")
    rule_estimator: RuleEstimatorWeights = field(default_factory=RuleEstimatorWeights)
    launch_overhead_seconds: int = 300
    evaluator_priorities: EvaluatorPriorities = field(default_factory=EvaluatorPriorities)
    estimator_budgets_ms: EstimatorBudgets = field(default_factory=EstimatorBudgets)
    catboost_training: CatBoostTraining = field(default_factory=CatBoostTraining)
    notes: str = ""
    policy_version: str = BUILTIN_POLICY_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.engine_kind, EngineKind):
            raise InvalidValueError("engine_kind", "must be rules or catboost")
        _check_ranges(
            "",
            [
                ("blocklist_hours", self.blocklist_hours, 0, 168),
                ("price_freshness_minutes", self.price_freshness_minutes, 5, 120),
                ("min_price_confidence", self.min_price_confidence, 0, 1),
                ("tie_tolerance_percent", self.tie_tolerance_percent, 0, 10),
                ("launch_overhead_seconds", self.launch_overhead_seconds, 0, 3600),
            ],
        )
        if len(self.notes) > MAX_NOTES_LENGTH:
            raise InvalidValueError("notes", f"must be at most {MAX_NOTES_LENGTH} characters")
        if not self.policy_version:
            raise InvalidValueError("policy_version", "must not be empty")

    @property
    def uses_models(self) -> bool:
        """Whether decisions need the §6.9 model features (the ``catboost`` engine)."""
        return self.engine_kind is EngineKind.CATBOOST

    def priority_for(self, motive: str) -> int:
        """Priority of an evaluator command for a motive (``savings``, ``risk``, ``return_to_spot``)."""
        if motive not in _PRIORITY_MOTIVES:
            raise InvalidValueError("motive", "the evaluator queues commands only for savings, risk or return_to_spot")
        return int(getattr(self.evaluator_priorities, motive))

    def is_blocklisted(self, last_notice_at: datetime | None, now: datetime) -> bool:
        """DP-7 condition 5: a termination notice in the pool within the last ``blocklist_hours``."""
        return last_notice_at is not None and now - last_notice_at < timedelta(hours=self.blocklist_hours)

    def is_decision_price_usable(self, observed_at: datetime | None, confidence: Decimal | None, now: datetime) -> bool:
        """PR-24: a price is usable for decisions only while fresh and confident enough."""
        if observed_at is None or confidence is None:
            return False
        fresh = now - observed_at <= timedelta(minutes=self.price_freshness_minutes)
        return fresh and confidence >= self.min_price_confidence

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], policy_version: str) -> PolicyDocument:
        """M18: build a document from parsed JSON; unknown keys and out-of-range values are rejected."""
        _reject_unknown("", data, _TOP_KEYS)
        if "engine_kind" not in data:
            raise InvalidValueError("engine_kind", "is required")
        kind = data["engine_kind"]
        if not isinstance(kind, str) or kind not in {k.value for k in EngineKind}:
            raise InvalidValueError("engine_kind", "must be rules or catboost")
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise InvalidValueError("notes", "must be a string")
        return cls(
            engine_kind=EngineKind(kind),
            default_thresholds=_thresholds(data.get("default_thresholds", {})),
            blocklist_hours=_int(data, "blocklist_hours", 24),
            price_freshness_minutes=_int(data, "price_freshness_minutes", 15),
            min_price_confidence=_decimal(data, "min_price_confidence", Decimal("0.70")),
            tie_tolerance_percent=_decimal(data, "tie_tolerance_percent", Decimal("0.5")),
            rule_estimator=_section(RuleEstimatorWeights, "rule_estimator", data),
            launch_overhead_seconds=_int(data, "launch_overhead_seconds", 300),
            evaluator_priorities=_section(EvaluatorPriorities, "evaluator_priorities", data),
            estimator_budgets_ms=_section(EstimatorBudgets, "estimator_budgets_ms", data),
            catboost_training=_section(CatBoostTraining, "catboost_training", data),
            notes=notes,
            policy_version=policy_version,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The effective document as JSON-ready data (M18 ``policy``); ``policy_version`` is not part of it."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "policy_version"}


_PRIORITY_MOTIVES = frozenset(f.name for f in fields(EvaluatorPriorities))
_TOP_KEYS = frozenset(f.name for f in fields(PolicyDocument)) - {"policy_version"}


def _plain(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (Thresholds, RuleEstimatorWeights, EvaluatorPriorities, EstimatorBudgets, CatBoostTraining)):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def _reject_unknown(prefix: str, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidValueError(f"{prefix}{unknown[0]}", "unknown key")


def _int(data: Mapping[str, Any], key: str, default: int, prefix: str = "") -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{prefix}{key}", "must be an integer")
    return value


def _decimal(data: Mapping[str, Any], key: str, default: Decimal, prefix: str = "") -> Decimal:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidValueError(f"{prefix}{key}", "must be a number")
    result = Decimal(str(value))
    if not result.is_finite():
        raise InvalidValueError(f"{prefix}{key}", "must be a finite number")
    return result


_Section = RuleEstimatorWeights | EvaluatorPriorities | EstimatorBudgets | CatBoostTraining
_S = TypeVar("_S", RuleEstimatorWeights, EvaluatorPriorities, EstimatorBudgets, CatBoostTraining)


def _section(kind: type[_S], key: str, data: Mapping[str, Any]) -> _S:
    raw = data.get(key, {})
    if not isinstance(raw, Mapping):
        raise InvalidValueError(key, "must be an object")
    return kind(**_typed_values(kind(), key, raw))


def _typed_values(defaults: _Section | Thresholds, key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    names = frozenset(f.name for f in fields(defaults))
    _reject_unknown(f"{key}.", raw, names)
    values: dict[str, Any] = {}
    for name in names & set(raw):
        default = getattr(defaults, name)
        if isinstance(default, Decimal):
            values[name] = _decimal(raw, name, default, f"{key}.")
        else:
            values[name] = _int(raw, name, default, f"{key}.")
    return values


def _thresholds(raw: object) -> Thresholds:
    if not isinstance(raw, Mapping):
        raise InvalidValueError("default_thresholds", "must be an object")
    values = _typed_values(Thresholds(), "default_thresholds", raw)
    try:
        return Thresholds(**values)
    except InvalidValueError as exc:
        raise InvalidValueError(f"default_thresholds.{exc.field}", exc.reason) from exc
