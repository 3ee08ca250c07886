"""§6.9 labels (with censoring), DP-8 holdout, DP-9 minimums, DP-12 metrics and the DP-13 promotion gate."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spotopt.domain.decisions.metrics import (
    PriceMetrics,
    RiskMetrics,
    brier,
    log_loss,
    mean_absolute_error,
    pr_auc,
    price_promoted,
    risk_promoted,
    rule_risk,
)
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import RuleEstimatorWeights
from spotopt.domain.decisions.training import (
    Minimums,
    Sample,
    TrackedLife,
    price_label,
    risk_sample_times,
    shortfall,
    split_holdout,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def labels_of(life: TrackedLife) -> list[tuple[float, int]]:
    return [((t - life.start) / H, label) for t, label in risk_sample_times(life)]


def test_risk_labels_one_sample_every_30_minutes_positive_within_two_hours_of_the_notice() -> None:
    life = TrackedLife("i-1", "p", T0, T0 + 5 * H + 2 * M, notice_at=T0 + 5 * H)
    assert labels_of(life) == [
        (0.0, 0),
        (0.5, 0),
        (1.0, 0),  # notice at 5 h: not in (1 h, 3 h]; still tracked at 3 h
        (1.5, 0),
        (2.0, 0),
        (2.5, 0),
        (3.0, 1),  # (3 h, 5 h] holds the notice
        (3.5, 1),
        (4.0, 1),
        (4.5, 1),
    ]


def test_risk_labels_drop_samples_whose_instance_stopped_being_tracked_for_another_reason() -> None:
    # Tracked for 3 h, no notice: only the samples whose 2 h window fits are labelled 0; the rest are censored.
    life = TrackedLife("i-1", "p", T0, T0 + 3 * H)
    assert labels_of(life) == [(0.0, 0), (0.5, 0), (1.0, 0)]


def test_a_notice_exactly_at_the_horizon_is_positive_and_at_the_sample_time_is_not_sampled() -> None:
    life = TrackedLife("i-1", "p", T0, T0 + 2 * H, notice_at=T0 + 2 * H)
    assert labels_of(life)[0] == (0.0, 1)
    assert labels_of(TrackedLife("i-2", "p", T0, T0 + H, notice_at=T0)) == []


def test_price_label_needs_12_of_the_24_following_buckets() -> None:
    step = timedelta(minutes=5)
    measured = {T0: Decimal("0.010")} | {T0 + k * step: Decimal("0.011") for k in range(1, 12)}
    assert price_label(measured, T0) is None
    measured[T0 + 24 * step] = Decimal("0.022")
    expected = math.log((11 * 0.011 + 0.022) / 12 / 0.010)
    assert price_label(measured, T0) == pytest.approx(expected)
    # The 25th bucket is outside the label window.
    assert price_label({T0: Decimal(1)} | {T0 + k * step: Decimal(2) for k in range(14, 38)}, T0) is None


def sample(at: datetime, label: float = 0.0, pool: str = "p") -> Sample:
    return Sample(pool_id=pool, at=at, features={}, label=label)


def test_dp8_holdout_is_the_last_7_days_and_training_labels_end_before_it() -> None:
    end = T0 + timedelta(days=200)
    holdout_start = end - timedelta(days=7)
    samples = [
        sample(end - timedelta(days=181)),  # outside the 180-day window
        sample(end - timedelta(days=100)),
        sample(holdout_start - 2 * H - M),  # label window ends before the holdout: training
        sample(holdout_start - H),  # label window overlaps the holdout: neither
        sample(holdout_start),
        sample(end - 2 * H),  # label ends exactly at the window end: observed
        sample(end - H),  # label not observed yet
    ]
    split = split_holdout(samples, end)
    assert [s.at for s in split.training] == [end - timedelta(days=100), holdout_start - 2 * H - M]
    assert [s.at for s in split.holdout] == [holdout_start, end - 2 * H]


@given(st.lists(st.integers(min_value=0, max_value=200 * 24 * 12), max_size=60))
def test_dp8_no_training_label_window_reaches_into_the_holdout(offsets: list[int]) -> None:
    end = T0 + timedelta(days=200)
    split = split_holdout([sample(T0 + timedelta(minutes=5 * o)) for o in offsets], end)
    assert all(s.label_end < split.holdout_start for s in split.training)
    assert all(s.at >= split.holdout_start and s.label_end <= end for s in split.holdout)
    assert not {id(s) for s in split.training} & {id(s) for s in split.holdout}


def test_dp9_minimums_name_what_is_missing() -> None:
    end = T0 + timedelta(days=30)
    train = [sample(T0 + k * M, label=1.0 if k < 3 else 0.0) for k in range(10)]
    hold = [sample(end - 3 * H, label=1.0)]
    split = split_holdout(train + hold, end)
    small = Minimums(training_samples=10, risk_training_positives=3, risk_holdout_positives=2, price_holdout_samples=2)
    assert shortfall(ModelKind.INTERRUPTION_RISK, split, small) == "1 holdout positives (need 2)"
    assert shortfall(ModelKind.PRICE_FORECAST, split, small) == "1 holdout samples (need 2)"
    assert shortfall(ModelKind.INTERRUPTION_RISK, split) == (
        "10 training samples (need 5000); 3 training positives (need 50); 1 holdout positives (need 10)"
    )
    enough = Minimums(training_samples=10, risk_training_positives=3, risk_holdout_positives=1)
    assert shortfall(ModelKind.INTERRUPTION_RISK, split, enough) is None


def test_dp12_metrics_match_hand_computed_values() -> None:
    labels = [1.0, 0.0, 1.0, 0.0]
    probs = [0.9, 0.2, 0.6, 0.6]
    expected_ll = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.4)) / 4
    assert log_loss(labels, probs) == pytest.approx(expected_ll)
    assert brier(labels, probs) == pytest.approx((0.01 + 0.04 + 0.16 + 0.36) / 4)
    # Thresholds: 0.9 → P=1, R=.5; 0.6 (tie of two) → P=2/3, R=1.
    assert pr_auc(labels, probs) == pytest.approx(0.5 * 1 + 0.5 * (2 / 3))
    assert mean_absolute_error([0.1, -0.1], [0.0, 0.0]) == pytest.approx(0.1)
    assert pr_auc([0.0, 0.0], [0.3, 0.4]) == 0.0


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=40), st.randoms())
def test_pr_auc_does_not_depend_on_the_order_of_samples(pairs: list[tuple[bool, float]], rnd: object) -> None:
    labels = [1.0 if y else 0.0 for y, _ in pairs]
    scores = [s for _, s in pairs]
    shuffled = list(zip(labels, scores, strict=True))
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert pr_auc(labels, scores) == pytest.approx(pr_auc([y for y, _ in shuffled], [s for _, s in shuffled]))


REF = RiskMetrics(log_loss=0.30, pr_auc=0.40, brier=0.1)


@pytest.mark.parametrize(
    ("log_loss_cand", "pr_auc_cand", "promoted"),
    [
        (0.297, 0.40, True),  # exactly 1 % better
        (0.2971, 0.40, False),  # less than 1 % better
        (0.20, 0.39, True),  # PR-AUC down by exactly 0.01 is tolerated
        (0.20, 0.389, False),  # more than 0.01 worse
        (0.31, 0.90, False),  # worse log loss
    ],
)
def test_dp13_risk_gate(log_loss_cand: float, pr_auc_cand: float, promoted: bool) -> None:
    assert risk_promoted(RiskMetrics(log_loss_cand, pr_auc_cand, 0.1), REF) is promoted


@pytest.mark.parametrize(
    ("cand", "ref", "no_change", "promoted"),
    [
        (0.099, 0.10, 0.20, True),
        (0.0991, 0.10, 0.20, False),
        (0.099, 0.10, 0.099, False),  # must beat no-change strictly
        (0.05, 0.20, 0.06, True),
    ],
)
def test_dp13_price_gate(cand: float, ref: float, no_change: float, promoted: bool) -> None:
    assert price_promoted(PriceMetrics(cand), PriceMetrics(ref), PriceMetrics(no_change)) is promoted


@given(st.floats(0.01, 5), st.floats(0, 1), st.floats(0, 1), st.floats(0.0, 5))
def test_dp13_a_worse_candidate_is_never_promoted(ref_ll: float, ref_auc: float, cand_auc: float, worse: float) -> None:
    """A candidate whose log loss is not better than the reference's never passes, whatever its PR-AUC."""
    cand = RiskMetrics(log_loss=ref_ll * (1 + worse), pr_auc=cand_auc, brier=0.0)
    assert not risk_promoted(cand, RiskMetrics(ref_ll, ref_auc, 0.0))


@given(st.floats(0.001, 5), st.floats(0.0, 5), st.floats(0.001, 5))
def test_dp13_a_price_candidate_no_better_than_no_change_is_never_promoted(
    mae: float, ref: float, factor: float
) -> None:
    assume(factor >= 1)
    assert not price_promoted(PriceMetrics(mae * factor), PriceMetrics(ref), PriceMetrics(mae))


def test_dp12_rule_reference_reads_the_fleet_features_like_the_rule_estimator() -> None:
    weights = RuleEstimatorWeights()
    features = {"terminations_24h": 1.0, "terminations_7d": 3.0, "rebalances_24h": 2.0}
    assert rule_risk(features, weights) == pytest.approx(0.05 + 0.25 + 0.05 * 2 + 0.05 * 2)
    assert rule_risk({}, weights) == pytest.approx(0.05)
    assert rule_risk({"terminations_24h": 9.0, "terminations_7d": 9.0}, weights) == 1.0
