"""DP-19 – DP-21 model versions and the DP-20 pointer swaps (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.decisions.features import RISK_FEATURES
from spotopt.domain.decisions.models import (
    ModelKind,
    ModelManifest,
    ModelOrigin,
    ModelStatus,
    ModelVersion,
    ModelVersionNotFoundError,
    activate,
    check_features,
    check_pointers,
    fall_back,
    lineup,
    next_version_number,
    reject,
)
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
RISK = ModelKind.INTERRUPTION_RISK
PRICE = ModelKind.PRICE_FORECAST
S = ModelStatus


def manifest(kind: ModelKind = RISK, n: int = 1, **kw: object) -> ModelManifest:
    features = RISK_FEATURES if kind is RISK else RISK_FEATURES[:-1]
    values: dict[str, object] = {
        "kind": kind,
        "features": features,
        "content_hash": f"{n:064x}",
        "origin": ModelOrigin.TRAINED,
        "reference_row": {
            f: ("x" if f in {"instance_family", "instance_size", "region", "az"} else 0.0) for f in features
        },
        "label": f"v{n}",
    }
    values.update(kw)
    return ModelManifest(**values)  # type: ignore[arg-type]


def version(n: int, status: ModelStatus, kind: ModelKind = RISK) -> ModelVersion:
    return ModelVersion(kind, n, manifest(kind, n), status, NOW - timedelta(days=n), NOW - timedelta(days=n))


def statuses(versions: list[ModelVersion], changed: list[ModelVersion]) -> dict[int, ModelStatus]:
    merged = {(v.kind, v.version): v for v in versions} | {(v.kind, v.version): v for v in changed}
    return {n: v.status for (k, n), v in sorted(merged.items(), key=lambda i: i[0][1]) if k is RISK}


@pytest.mark.parametrize(
    ("before", "target", "after"),
    [
        # DP-20: the first activation: nothing else changes.
        ({1: S.CANDIDATE}, 1, {1: S.LIVE}),
        # live → fallback; the candidate goes live.
        ({1: S.LIVE, 2: S.CANDIDATE}, 2, {1: S.FALLBACK, 2: S.LIVE}),
        # previous fallback → retired.
        ({1: S.FALLBACK, 2: S.LIVE, 3: S.CANDIDATE}, 3, {1: S.RETIRED, 2: S.FALLBACK, 3: S.LIVE}),
        # activating the fallback swaps the two pointers and retires nothing.
        ({1: S.FALLBACK, 2: S.LIVE}, 1, {1: S.LIVE, 2: S.FALLBACK}),
        # an administrator may bring a retired version back.
        ({1: S.RETIRED, 2: S.FALLBACK, 3: S.LIVE}, 1, {1: S.LIVE, 2: S.RETIRED, 3: S.FALLBACK}),
        # M15 idempotency: activating the live version changes nothing.
        ({1: S.FALLBACK, 2: S.LIVE}, 2, {1: S.FALLBACK, 2: S.LIVE}),
    ],
)
def test_dp20_activation(before: dict[int, ModelStatus], target: int, after: dict[int, ModelStatus]) -> None:
    versions = [version(n, s) for n, s in before.items()]
    assert statuses(versions, activate(versions, RISK, target, NOW)) == after


def test_dp20_activation_touches_only_its_own_kind() -> None:
    versions = [version(1, S.LIVE), version(1, S.LIVE, PRICE), version(2, S.CANDIDATE, PRICE)]
    changed = activate(versions, PRICE, 2, NOW)
    assert {(v.kind, v.version, v.status) for v in changed} == {(PRICE, 2, S.LIVE), (PRICE, 1, S.FALLBACK)}
    assert all(v.status_changed_at == NOW for v in changed)


def test_dp13_a_rejected_version_never_goes_live() -> None:
    with pytest.raises(RuleConflictError) as err:
        activate([version(1, S.REJECTED)], RISK, 1, NOW)
    assert err.value.code == "session_rejected"


def test_dp20_fallback_makes_the_fallback_live_and_retires_the_live() -> None:
    versions = [version(1, S.FALLBACK), version(2, S.LIVE)]
    assert statuses(versions, fall_back(versions, RISK, NOW)) == {1: S.LIVE, 2: S.RETIRED}
    with pytest.raises(RuleConflictError) as err:
        fall_back([version(1, S.LIVE)], RISK, NOW)
    assert err.value.code == "no_fallback"


def test_only_candidates_are_rejected_and_unknown_versions_are_not_found() -> None:
    assert reject([version(1, S.CANDIDATE)], RISK, 1, NOW)[0].status is S.REJECTED
    with pytest.raises(RuleConflictError):
        reject([version(1, S.LIVE)], RISK, 1, NOW)
    with pytest.raises(ModelVersionNotFoundError):
        activate([version(1, S.LIVE)], RISK, 7, NOW)


def test_dp19_version_numbers_are_monotonic_per_kind() -> None:
    versions = [version(1, S.RETIRED), version(4, S.LIVE), version(2, S.LIVE, PRICE)]
    assert next_version_number(versions, RISK) == 5
    assert next_version_number(versions, PRICE) == 3
    assert version(4, S.LIVE).name == "interruption_risk-v4"


@pytest.mark.parametrize(
    ("kind", "features", "reason"),
    [
        (RISK, ("spot_price", "bogus"), "unknown feature bogus"),
        (RISK, ("spot_price", "spot_price"), "must not repeat a feature"),
        (PRICE, ("spot_price", "instance_age_hours"), "the price model uses pool features only"),
        (RISK, (), "must not be empty"),
    ],
)
def test_m14_manifest_features_are_known_names_in_a_valid_combination(
    kind: ModelKind, features: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(InvalidValueError) as err:
        check_features(kind, features)
    assert err.value.reason == reason


def test_a_manifest_needs_a_reference_value_for_every_feature_of_the_right_type() -> None:
    row = dict(manifest().reference_row)
    del row["az"]
    with pytest.raises(InvalidValueError, match="no value for feature az"):
        manifest(reference_row=row)
    with pytest.raises(InvalidValueError, match="categorical"):
        manifest(reference_row=dict(manifest().reference_row) | {"az": 3.0})
    with pytest.raises(InvalidValueError, match="SHA-256"):
        manifest(content_hash="abc")


def test_a_manifest_pins_the_categorical_columns_by_position() -> None:
    reordered = ("spot_price", "az", "hour_of_day", "region")
    m = manifest(features=reordered, reference_row={"spot_price": 0.1, "az": "a", "hour_of_day": 1.0, "region": "r"})
    assert m.categorical_indices == (1, 3)


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["register", "activate", "fallback", "reject"]),
        st.sampled_from(list(ModelKind)),
        st.integers(1, 6),
    ),
    max_size=30,
)


@given(_OPERATIONS)
def test_dp20_at_most_one_live_and_one_fallback_per_kind_whatever_the_sequence(
    ops: list[tuple[str, ModelKind, int]],
) -> None:
    versions: list[ModelVersion] = []
    for op, kind, n in ops:
        try:
            if op == "register":
                number = next_version_number(versions, kind)
                versions.append(ModelVersion(kind, number, manifest(kind, number), S.CANDIDATE, NOW, NOW))
                continue
            if op == "activate":
                changed = activate(versions, kind, n, NOW)
            elif op == "fallback":
                changed = fall_back(versions, kind, NOW)
            else:
                changed = reject(versions, kind, n, NOW)
        except (RuleConflictError, ModelVersionNotFoundError):
            continue
        by_key = {(v.kind, v.version): v for v in versions} | {(v.kind, v.version): v for v in changed}
        before_rejected = {(v.kind, v.version) for v in versions if v.status is S.REJECTED}
        versions = list(by_key.values())
        check_pointers(versions)
        # A rejected version stays rejected.
        assert before_rejected <= {(v.kind, v.version) for v in versions if v.status is S.REJECTED}
        if op == "activate":
            assert lineup(versions, kind).live is not None
            assert lineup(versions, kind).live.version == n  # type: ignore[union-attr]
