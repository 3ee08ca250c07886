"""JSON form of model manifests and versions (DP-19): plain data, parsed strictly, never evaluated."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from spotopt.domain.decisions.features import FeatureValue
from spotopt.domain.decisions.models import (
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    TrainingWindow,
)
from spotopt.domain.shared.errors import InvalidValueError

_E = TypeVar("_E", ModelKind, ModelOrigin, ModelStatus)
_MANIFEST_KEYS = frozenset(
    {
        "kind",
        "features",
        "content_hash",
        "origin",
        "reference_row",
        "label",
        "expected_score",
        "training_window",
        "metrics",
        "notes",
    }
)


def manifest_to_json(manifest: ModelManifest) -> dict[str, Any]:
    window = manifest.training_window
    return {
        "kind": manifest.kind.value,
        "features": list(manifest.features),
        "content_hash": manifest.content_hash,
        "origin": manifest.origin.value,
        "reference_row": {name: _json_value(manifest.reference_row[name]) for name in manifest.features},
        "label": manifest.label,
        "expected_score": manifest.expected_score,
        "training_window": None if window is None else {"from": window.start.isoformat(), "to": window.end.isoformat()},
        "metrics": dict(manifest.metrics),
        "notes": manifest.notes,
    }


def manifest_from_json(data: Mapping[str, Any]) -> ModelManifest:
    """Strict: unknown keys, wrong types and unknown features are rejected (``InvalidValueError``)."""
    unknown = sorted(set(data) - _MANIFEST_KEYS)
    if unknown:
        raise InvalidValueError(unknown[0], "unknown key")
    features = data.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise InvalidValueError("features", "must be a list of feature names")
    row = data.get("reference_row")
    if not isinstance(row, Mapping):
        raise InvalidValueError("reference_row", "must be an object")
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, Mapping) or not all(_is_number(v) for v in metrics.values()):
        raise InvalidValueError("metrics", "must map names to numbers")
    expected = data.get("expected_score")
    if expected is not None and not _is_number(expected):
        raise InvalidValueError("expected_score", "must be a number")
    return ModelManifest(
        kind=_enum(ModelKind, data.get("kind"), "kind"),
        features=tuple(features),
        content_hash=_str(data, "content_hash"),
        origin=_enum(ModelOrigin, data.get("origin"), "origin"),
        reference_row={str(k): _feature_value(v) for k, v in row.items()},
        label=_str(data, "label"),
        expected_score=None if expected is None else float(expected),
        training_window=_window(data.get("training_window")),
        metrics={str(k): float(v) for k, v in metrics.items()},
        notes=str(data.get("notes") or ""),
    )


def version_to_json(version: ModelVersion) -> dict[str, Any]:
    return {
        "kind": version.kind.value,
        "version": version.version,
        "status": version.status.value,
        "registered_at": version.registered_at.isoformat(),
        "status_changed_at": version.status_changed_at.isoformat(),
        "manifest": manifest_to_json(version.manifest),
    }


def version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    number = data.get("version")
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidValueError("version", "must be an integer")
    return ModelVersion(
        kind=_enum(ModelKind, data.get("kind"), "kind"),
        version=number,
        manifest=manifest_from_json(data.get("manifest") or {}),
        status=_enum(ModelStatus, data.get("status"), "status"),
        registered_at=datetime.fromisoformat(_str(data, "registered_at")),
        status_changed_at=datetime.fromisoformat(_str(data, "status_changed_at")),
    )


def _json_value(value: FeatureValue) -> FeatureValue:
    # JSON has no NaN: a missing numeric value is null.
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _feature_value(value: object) -> FeatureValue:
    if value is None or isinstance(value, str):
        return value
    if _is_number(value):
        return float(value)  # type: ignore[arg-type]
    raise InvalidValueError("reference_row", "values must be numbers, strings or null")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidValueError(key, "must be a non-empty string")
    return value


def _enum(kind: type[_E], value: object, key: str) -> _E:
    allowed = [m.value for m in kind]
    if isinstance(value, str) and value in allowed:
        return kind(value)
    raise InvalidValueError(key, f"must be one of {', '.join(allowed)}")


def _window(value: object) -> TrainingWindow | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("from"), str) or not isinstance(value.get("to"), str):
        raise InvalidValueError("training_window", "must be {from, to} dates")
    try:
        return TrainingWindow(date.fromisoformat(value["from"]), date.fromisoformat(value["to"]))
    except ValueError:
        raise InvalidValueError("training_window", "must be {from, to} ISO dates") from None
