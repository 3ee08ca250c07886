"""The feature-order contract (house style §12, M14): a real CatBoost model trained in the test is scored in the
manifest's column order; a manifest whose columns are permuted is rejected, never mis-scored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from pathlib import Path

import pytest
from catboost import CatBoostClassifier, Pool

from spotopt.adapters.ml.catboost_models import CatBoostPredictor
from spotopt.adapters.ml.frame import frame
from spotopt.adapters.ml.model_store import FileModelStore
from spotopt.domain.decisions.features import CATEGORICAL_FEATURES, PRICE_FEATURES, RISK_FEATURES
from spotopt.domain.decisions.models import ModelInvalidError, ModelKind, ModelManifest, ModelOrigin
from tests.integration.ml.tiny import synthetic_samples, train_tiny

RISK = ModelKind.INTERRUPTION_RISK
PRICE = ModelKind.PRICE_FORECAST


def permuted(manifest: ModelManifest, seed: int = 5) -> ModelManifest:
    order = list(manifest.features)
    rnd = random.Random(seed)
    while order == list(manifest.features):
        rnd.shuffle(order)
    return dataclasses.replace(manifest, features=tuple(order))


def test_a_trained_model_scores_rows_in_the_manifest_order_whatever_the_mapping_order(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path)
    model = CatBoostPredictor.load(trained.artifact, trained.manifest, "interruption_risk-v1")
    rows = [s.features for s in synthetic_samples(RISK, 50, seed=9)]
    scores = model.predict(rows)
    # Output shape and range: one probability per row.
    assert len(scores) == 50
    assert all(0.0 <= p <= 1.0 for p in scores)
    assert len(set(scores)) > 1
    # The same rows with their keys in another order score identically: columns come from the manifest.
    shuffled = [dict(reversed(list(r.items()))) for r in rows]
    assert model.predict(shuffled) == scores
    # And they equal a frame built by hand in the trained column order.
    raw = CatBoostPredictor.load(trained.artifact, trained.manifest)._model
    direct = raw.predict(
        Pool(frame(RISK_FEATURES, rows), cat_features=list(trained.manifest.categorical_indices)),
        prediction_type="Probability",
    )
    assert scores == [float(p[1]) for p in direct]


def test_a_permuted_manifest_is_rejected_by_name(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path)
    bad = permuted(trained.manifest)
    with pytest.raises(ModelInvalidError, match="feature order differs from the manifest at column"):
        CatBoostPredictor.load(trained.artifact, bad)
    store = FileModelStore(tmp_path / "store")
    with pytest.raises(ModelInvalidError):
        store.put_sync(trained.artifact, bad)
    assert not store.artifact_path(bad.content_hash).exists()


def test_a_subset_or_superset_of_columns_is_rejected(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path, PRICE)
    fewer = dataclasses.replace(trained.manifest, features=PRICE_FEATURES[:-1])
    with pytest.raises(ModelInvalidError, match="the model has 22 features, the manifest lists 21"):
        CatBoostPredictor.load(trained.artifact, fewer)


def test_a_nameless_model_with_a_permuted_manifest_fails_its_smoke_test(tmp_path: Path) -> None:
    """Without names in the file, the reference row and its expected score catch the permutation (DP-11)."""
    samples = synthetic_samples(RISK, 400)
    cat = [i for i, name in enumerate(RISK_FEATURES) if name in CATEGORICAL_FEATURES]
    model = CatBoostClassifier(
        iterations=30, depth=3, thread_count=2, random_seed=1, verbose=False, allow_writing_files=False
    )
    model.fit(Pool(frame(RISK_FEATURES, [s.features for s in samples]), [s.label for s in samples], cat_features=cat))
    path = tmp_path / "nameless.cbm"
    model.save_model(str(path))
    artifact = path.read_bytes()
    reference = dict(samples[0].features)
    (expected,) = [float(p[1]) for p in model.predict(Pool(frame(RISK_FEATURES, [reference]), cat_features=cat),
                                                       prediction_type="Probability")]  # fmt: skip
    honest = ModelManifest(
        kind=RISK,
        features=RISK_FEATURES,
        content_hash=hashlib.sha256(artifact).hexdigest(),
        origin=ModelOrigin.UPLOADED,
        reference_row={name: reference[name] for name in RISK_FEATURES},
        label="nameless",
        expected_score=expected,
    )
    assert CatBoostPredictor.load(artifact, honest).predict([reference]) == [expected]
    # Swap two numeric columns: same count, same categorical positions, no names to compare.
    a, b = RISK_FEATURES.index("terminations_24h"), RISK_FEATURES.index("instance_age_hours")
    order = list(RISK_FEATURES)
    order[a], order[b] = order[b], order[a]
    swapped = dataclasses.replace(honest, features=tuple(order))
    with pytest.raises(ModelInvalidError, match="the manifest expects"):
        CatBoostPredictor.load(artifact, swapped)


def test_price_model_output_is_a_finite_log_ratio_per_row(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path, PRICE)
    model = CatBoostPredictor.load(trained.artifact, trained.manifest, "price_forecast-v1")
    scores = model.predict([s.features for s in synthetic_samples(PRICE, 20, seed=4)])
    assert len(scores) == 20
    assert all(math.isfinite(y) and abs(y) < 1 for y in scores)
    assert trained.manifest.features == PRICE_FEATURES
    assert trained.manifest.expected_score == pytest.approx(model.predict([trained.manifest.reference_row])[0])


def test_a_model_of_the_other_kind_is_rejected(tmp_path: Path) -> None:
    trained = train_tiny(tmp_path, PRICE)
    as_risk = dataclasses.replace(
        trained.manifest,
        kind=RISK,
        features=RISK_FEATURES[:-1],
        reference_row=trained.manifest.reference_row,
    )
    with pytest.raises(ModelInvalidError, match="loss RMSE does not fit a interruption_risk model"):
        CatBoostPredictor.load(trained.artifact, as_risk)
