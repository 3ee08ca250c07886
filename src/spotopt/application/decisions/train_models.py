"""The model trainer (domain §7.2 "Model trainer", §6.9, DP-8 – DP-13): one run trains every kind once."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from spotopt.application.notifications.recording import record_events
from spotopt.application.ports.decisions import ModelArtifacts, ModelRegistry, ModelTrainer, PolicyStore, TrainingData
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.decisions.metrics import (
    PriceMetrics,
    RiskMetrics,
    mean_absolute_error,
    price_promoted,
    risk_metrics,
    risk_promoted,
    rule_risk,
)
from spotopt.domain.decisions.models import (
    ModelInvalidError,
    ModelKind,
    ModelStatus,
    ModelVersion,
    TrainingWindow,
)
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.training import DATA_WINDOW, HoldoutSplit, dataset_counts, shortfall, split_holdout
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.events import DomainEvent, Severity

log = logging.getLogger(__name__)


class TrainingOutcome(StrEnum):
    SKIPPED = "skipped"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainModelsCommand:
    """``window_end`` defaults to now; a dataset with its own end (the public traces) passes that end."""

    kinds: tuple[ModelKind, ...] = tuple(ModelKind)
    window_end: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KindResult:
    kind: ModelKind
    outcome: TrainingOutcome
    reason: str | None = None
    version: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainModelsResult:
    results: tuple[KindResult, ...]


class TrainModels:
    """- DP-8: samples of the last 180 days; the last 7 days are the holdout; training samples' label windows end
      before the holdout starts.
    - DP-9: below the minimums the kind is skipped (``training_skipped``, reason ``insufficient_data``); whatever
      serves now keeps serving.
    - DP-10: parameters, seed and thread count from the active policy document.
    - DP-11: the artefact is stored only after its smoke test; a failure rejects the run (``model_rejected``).
    - DP-12: holdout metrics against the live model re-scored on the same holdout, else the rule estimator (risk)
      or the no-change forecast (price).
    - DP-13: the gate promotes (``model_promoted``, the candidate goes live) or rejects (``model_rejected``).
    - Idempotent: an artefact already registered (same data, same parameters) changes nothing.
    - Registry writes are their own atomic transactions; the events are this use case's one transaction.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        policies: PolicyStore,
        data: TrainingData,
        trainer: ModelTrainer,
        artifacts: ModelArtifacts,
        registry: ModelRegistry,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._data = data
        self._trainer = trainer
        self._artifacts = artifacts
        self._registry = registry

    async def execute(self, command: TrainModelsCommand) -> TrainModelsResult:
        now = self._clock.now()
        end = command.window_end or now
        policy = await self._policies.active()
        results: list[KindResult] = []
        events: list[DomainEvent] = []
        for kind in command.kinds:
            split = split_holdout(await self._data.samples(kind, end - DATA_WINDOW, end), end)
            result, kind_events = await self._train(kind, split, policy, now)
            results.append(result)
            events += kind_events
        await record_events(self._uow, events, now)
        await self._uow.commit()
        return TrainModelsResult(results=tuple(results))

    async def _train(
        self, kind: ModelKind, split: HoldoutSplit, policy: PolicyDocument, now: datetime
    ) -> tuple[KindResult, list[DomainEvent]]:
        counts = dataset_counts(split)
        missing = shortfall(kind, split)
        if missing is not None:
            result = KindResult(kind=kind, outcome=TrainingOutcome.SKIPPED, reason="insufficient_data", counts=counts)
            return result, [_event("training_skipped", kind, f"insufficient data: {missing}", result, detail=missing)]
        window = TrainingWindow(split.window_start.date(), split.holdout_start.date())
        label = f"{kind.value}-{split.window_end:%Y%m%dT%H%M}"
        trained = await self._trainer.fit(kind, split.training, policy.catboost_training, label=label, window=window)
        labels = [s.label for s in split.holdout]
        scores = await self._trainer.score(trained.artifact, trained.manifest, split.holdout)
        metrics, promoted, reference = await self._judge(kind, split, labels, scores, policy)
        manifest = dataclasses.replace(trained.manifest, metrics=metrics)
        try:
            await self._artifacts.put(trained.artifact, manifest)
        except ModelInvalidError as exc:
            result = KindResult(
                kind=kind, outcome=TrainingOutcome.REJECTED, reason="smoke_test_failed", metrics=metrics, counts=counts
            )
            return result, [_event("model_rejected", kind, f"smoke test failed: {exc.reason}", result)]
        version = await self._registry.register_candidate(manifest, now)
        if version.status is not ModelStatus.CANDIDATE:
            result = KindResult(kind=kind, outcome=TrainingOutcome.UNCHANGED, version=version.version, counts=counts)
            return result, []
        events = [_event("model_candidate_registered", kind, f"{version.name} registered", _as(version, counts))]
        if promoted:
            await self._registry.activate(kind, version.version, now)
            outcome, verb = TrainingOutcome.PROMOTED, "promoted over"
        else:
            await self._registry.reject(kind, version.version, now)
            outcome, verb = TrainingOutcome.REJECTED, "not better than"
        result = KindResult(kind=kind, outcome=outcome, version=version.version, metrics=metrics, counts=counts)
        event_type = "model_promoted" if promoted else "model_rejected"
        return result, [*events, _event(event_type, kind, f"{version.name} {verb} {reference}", result)]

    async def _judge(
        self, kind: ModelKind, split: HoldoutSplit, labels: list[float], scores: list[float], policy: PolicyDocument
    ) -> tuple[dict[str, float], bool, str]:
        """DP-12 metrics of the candidate and its reference, and the DP-13 verdict."""
        live, live_scores = await self._live_scores(kind, split)
        reference = live.name if live is not None and live_scores is not None else None
        if kind is ModelKind.INTERRUPTION_RISK:
            cand = risk_metrics(labels, scores)
            ref_scores = live_scores or [rule_risk(s.features, policy.rule_estimator) for s in split.holdout]
            ref = risk_metrics(labels, ref_scores)
            return _merged(cand, ref), risk_promoted(cand, ref), reference or "the rule estimator"
        no_change = PriceMetrics(mean_absolute_error(labels, [0.0] * len(labels)))
        price = PriceMetrics(mean_absolute_error(labels, scores))
        price_ref = PriceMetrics(mean_absolute_error(labels, live_scores)) if live_scores is not None else no_change
        merged = _merged(price, price_ref) | {"no_change_mae": no_change.mae}
        return merged, price_promoted(price, price_ref, no_change), reference or "the no-change forecast"

    async def _live_scores(
        self, kind: ModelKind, split: HoldoutSplit
    ) -> tuple[ModelVersion | None, list[float] | None]:
        live = (await self._registry.live()).get(kind)
        version = live.live if live is not None else None
        if version is None:
            return None, None
        try:
            artifact = await self._artifacts.read(version.content_hash)
            return version, await self._trainer.score(artifact, version.manifest, split.holdout)
        except DomainError as exc:
            # A live model that cannot be re-scored is no reference; the DP-12 default reference applies.
            log.warning("live model %s not re-scorable: %s", version.name, exc)
            return version, None


def _merged(candidate: RiskMetrics | PriceMetrics, reference: RiskMetrics | PriceMetrics) -> dict[str, float]:
    return candidate.as_dict() | {f"reference_{k}": v for k, v in reference.as_dict().items()}


def _as(version: ModelVersion, counts: dict[str, int]) -> KindResult:
    return KindResult(
        kind=version.kind,
        outcome=TrainingOutcome.UNCHANGED,
        version=version.version,
        metrics=dict(version.manifest.metrics),
        counts=counts,
    )


def _event(
    event_type: str, kind: ModelKind, message: str, result: KindResult, detail: str | None = None
) -> DomainEvent:
    metadata: dict[str, object] = {"kind": kind.value, "counts": dict(result.counts), "metrics": dict(result.metrics)}
    if result.version is not None:
        metadata["version"] = result.version
    if result.reason is not None:
        metadata["reason"] = result.reason
    if detail is not None:
        metadata["detail"] = detail
    return DomainEvent(type=event_type, severity=Severity.INFO, message=f"{kind.value}: {message}", metadata=metadata)
