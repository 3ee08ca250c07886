"""The feature frame: rows of §6.9 features laid out in the exact column order a manifest pins.

The order comes from the manifest, never from a mapping's iteration order, and a model whose own columns do
not match its manifest is refused here (silent column permutation is the main risk of this adapter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from catboost import CatBoost, Pool

from spotopt.domain.decisions.features import CATEGORICAL_FEATURES, FeatureRow
from spotopt.domain.decisions.models import ModelInvalidError, ModelManifest

MISSING_CATEGORY = ""


def frame(features: Sequence[str], rows: Sequence[FeatureRow]) -> list[list[float | str]]:
    """One list per row in ``features`` order; missing numbers are NaN, missing categories the empty string."""
    out: list[list[float | str]] = []
    for row in rows:
        values: list[float | str] = []
        for name in features:
            value = row.get(name)
            if name in CATEGORICAL_FEATURES:
                values.append(MISSING_CATEGORY if value is None else str(value))
            elif value is None or isinstance(value, str):
                values.append(math.nan)
            else:
                values.append(float(value))
        out.append(values)
    return out


def pool(manifest: ModelManifest, rows: Sequence[FeatureRow], labels: Sequence[float] | None = None) -> Pool:
    return Pool(
        data=frame(manifest.features, rows),
        label=None if labels is None else list(labels),
        cat_features=list(manifest.categorical_indices),
        feature_names=list(manifest.features),
    )


def check_columns(model: CatBoost, manifest: ModelManifest) -> None:
    """M14: the model has as many columns as the manifest, the same categorical columns and, when the file carries
    names, the manifest's names in the same order. A permuted manifest is rejected, never scored.
    """
    names = list(model.feature_names_ or [])
    if len(names) != len(manifest.features):
        raise ModelInvalidError(f"the model has {len(names)} features, the manifest lists {len(manifest.features)}")
    carries_names = names != [str(i) for i in range(len(names))]
    if carries_names and names != list(manifest.features):
        first = next(i for i, (a, b) in enumerate(zip(names, manifest.features, strict=True)) if a != b)
        raise ModelInvalidError(
            f"feature order differs from the manifest at column {first}: model {names[first]!r}, "
            f"manifest {manifest.features[first]!r}"
        )
    if sorted(model.get_cat_feature_indices()) != list(manifest.categorical_indices):
        raise ModelInvalidError("the model's categorical columns differ from the manifest's")
