"""Model versions and the registry rules (domain §6.11 DP-19 – DP-22; §6.9 kinds).

A model artefact is data, never code: a CatBoost file plus a manifest. The functions here are the pure pointer
swaps of DP-20; the registry port applies their result atomically.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from spotopt.domain.decisions.features import (
    CATEGORICAL_FEATURES,
    INSTANCE_FEATURES,
    KNOWN_FEATURES,
    FeatureValue,
)
from spotopt.domain.shared.errors import DomainError, InvalidValueError, RuleConflictError

_HASH = re.compile(r"^[0-9a-f]{64}$")
_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ModelVersionNotFoundError(DomainError):
    code = "not_found"


class ModelInvalidError(DomainError):
    """An artefact fails validation (DP-11, DP-21: M14 ``model_invalid`` with ``detail.reason``)."""

    code = "model_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Model artefact rejected: {reason}", reason=reason)
        self.reason = reason


class ArtifactMissingError(DomainError):
    """A stored artefact is absent or fails its hash check (M15 ``artifact_missing``)."""

    code = "artifact_missing"

    def __init__(self, content_hash: str, reason: str) -> None:
        super().__init__(f"Model artefact {content_hash[:12]} unusable: {reason}", content_hash=content_hash)
        self.reason = reason


class ModelKind(StrEnum):
    INTERRUPTION_RISK = "interruption_risk"
    PRICE_FORECAST = "price_forecast"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    LIVE = "live"
    FALLBACK = "fallback"
    RETIRED = "retired"
    REJECTED = "rejected"


class ModelOrigin(StrEnum):
    TRAINED = "trained"
    UPLOADED = "uploaded"


@dataclass(frozen=True, slots=True)
class TrainingWindow:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidValueError("training_window", "from must not be after to")


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """DP-19 / M14 manifest of one artefact: what the model expects and how it was made.

    ``features`` is the exact column order of the artefact; ``reference_row`` with ``expected_score`` is the
    DP-11 smoke test (the score the artefact gave that row when it was made; None for an upload without one).
    """

    kind: ModelKind
    features: tuple[str, ...]
    content_hash: str
    origin: ModelOrigin
    reference_row: Mapping[str, FeatureValue]
    label: str
    expected_score: float | None = None
    training_window: TrainingWindow | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        check_features(self.kind, self.features)
        if not _HASH.match(self.content_hash):
            raise InvalidValueError("content_hash", "must be a lowercase SHA-256 hex digest")
        if not _LABEL.match(self.label):
            raise InvalidValueError("version", "must be 1-64 characters of [A-Za-z0-9._-]")
        missing = [name for name in self.features if name not in self.reference_row]
        if missing:
            raise InvalidValueError("reference_row", f"has no value for feature {missing[0]}")
        for name in self.features:
            check_feature_value(name, self.reference_row[name])

    @property
    def categorical_indices(self) -> tuple[int, ...]:
        return tuple(i for i, name in enumerate(self.features) if name in CATEGORICAL_FEATURES)


def check_features(kind: ModelKind, features: Sequence[str]) -> None:
    """M14: known §6.9 names, each once; ``instance_age_hours`` only in the risk model."""
    if not features:
        raise InvalidValueError("features", "must not be empty")
    unknown = [name for name in features if name not in KNOWN_FEATURES]
    if unknown:
        raise InvalidValueError("features", f"unknown feature {unknown[0]}")
    if len(set(features)) != len(features):
        raise InvalidValueError("features", "must not repeat a feature")
    if kind is ModelKind.PRICE_FORECAST and any(name in INSTANCE_FEATURES for name in features):
        raise InvalidValueError("features", "the price model uses pool features only")


def check_feature_value(name: str, value: FeatureValue) -> None:
    if name in CATEGORICAL_FEATURES:
        if not isinstance(value, str):
            raise InvalidValueError(f"reference_row.{name}", "must be a string (categorical feature)")
    elif value is not None and (isinstance(value, bool) or not isinstance(value, float | int)):
        raise InvalidValueError(f"reference_row.{name}", "must be a number or null")


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """DP-19: an immutable artefact registered under ``(kind, version)``; only its status ever changes."""

    kind: ModelKind
    version: int
    manifest: ModelManifest
    status: ModelStatus
    registered_at: datetime
    status_changed_at: datetime
    session_id: str | None = None
    size_bytes: int = 0
    file_name: str = ""

    def __post_init__(self) -> None:
        if self.version < 1:
            raise InvalidValueError("version", "must be >= 1")
        if self.manifest.kind is not self.kind:
            raise InvalidValueError("kind", "must match the manifest")

    @property
    def content_hash(self) -> str:
        return self.manifest.content_hash

    @property
    def name(self) -> str:
        """The model version recorded on decisions (§6.3 ``risk_model_version`` / ``price_model_version``)."""
        return f"{self.kind.value}-v{self.version}"

    def with_status(self, status: ModelStatus, now: datetime) -> ModelVersion:
        return dataclasses.replace(self, status=status, status_changed_at=now)


@dataclass(frozen=True, slots=True)
class LiveModels:
    """The pointers of one kind (DP-20): the live version and the fallback, either may be absent."""

    live: ModelVersion | None = None
    fallback: ModelVersion | None = None


def next_version_number(versions: Sequence[ModelVersion], kind: ModelKind) -> int:
    """DP-19: version numbers are monotonic per kind."""
    return 1 + max((v.version for v in versions if v.kind is kind), default=0)


def lineup(versions: Sequence[ModelVersion], kind: ModelKind) -> LiveModels:
    of_kind = [v for v in versions if v.kind is kind]
    return LiveModels(
        live=next((v for v in of_kind if v.status is ModelStatus.LIVE), None),
        fallback=next((v for v in of_kind if v.status is ModelStatus.FALLBACK), None),
    )


def activate(versions: Sequence[ModelVersion], kind: ModelKind, version: int, now: datetime) -> list[ModelVersion]:
    """DP-20 activation: the version goes live, the previous live becomes the fallback, the previous fallback is
    retired. Returns the versions whose status changed (none when it is already live). A rejected version never
    goes live.
    """
    target = _find(versions, kind, version)
    if target.status is ModelStatus.LIVE:
        return []
    if target.status is ModelStatus.REJECTED:
        raise RuleConflictError("A rejected model version cannot be activated", code="session_rejected")
    current = lineup(versions, kind)
    changed = [target.with_status(ModelStatus.LIVE, now)]
    if current.live is not None:
        changed.append(current.live.with_status(ModelStatus.FALLBACK, now))
    if current.fallback is not None and current.fallback.version != version:
        changed.append(current.fallback.with_status(ModelStatus.RETIRED, now))
    return changed


def fall_back(versions: Sequence[ModelVersion], kind: ModelKind, now: datetime) -> list[ModelVersion]:
    """DP-20 fallback: the fallback goes live and the previous live is retired; none without a fallback."""
    current = lineup(versions, kind)
    if current.fallback is None:
        raise RuleConflictError(f"No fallback version of {kind.value}", code="no_fallback")
    changed = [current.fallback.with_status(ModelStatus.LIVE, now)]
    if current.live is not None:
        changed.append(current.live.with_status(ModelStatus.RETIRED, now))
    return changed


def reject(versions: Sequence[ModelVersion], kind: ModelKind, version: int, now: datetime) -> list[ModelVersion]:
    """DP-13: a candidate that fails the gate is ``rejected`` (it keeps its metrics in the manifest)."""
    target = _find(versions, kind, version)
    if target.status is not ModelStatus.CANDIDATE:
        raise RuleConflictError("Only a candidate can be rejected", code="not_candidate")
    return [target.with_status(ModelStatus.REJECTED, now)]


def check_pointers(versions: Sequence[ModelVersion]) -> None:
    """DP-20 invariant: per kind at most one live and at most one fallback version."""
    for kind in ModelKind:
        for status in (ModelStatus.LIVE, ModelStatus.FALLBACK):
            count = sum(1 for v in versions if v.kind is kind and v.status is status)
            if count > 1:
                raise RuleConflictError(f"{count} {status.value} versions of {kind.value}")


def _find(versions: Sequence[ModelVersion], kind: ModelKind, version: int) -> ModelVersion:
    found = next((v for v in versions if v.kind is kind and v.version == version), None)
    if found is None:
        raise ModelVersionNotFoundError(f"No model version {kind.value} v{version}", kind=kind.value, version=version)
    return found
