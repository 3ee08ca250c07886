"""Decision policy: domain §6.1 - §6.8, DP-4, DP-7, DP-14, DP-17, api A14 / M18, pitfalls 15 and 19."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.decisions.candidates import RankedPool, best_pool, eligibility_verdict, rank_pools
from spotopt.domain.decisions.decision import Action, Decision, is_switch_limited, should_store, switch_limited_event
from spotopt.domain.decisions.estimation import PoolEstimate, PoolSnapshot, PoolStats, RuleEstimator
from spotopt.domain.decisions.guards import check_api_command
from spotopt.domain.decisions.inputs import (
    API_CONDITIONS,
    DecisionInput,
    Motive,
    ReasonCode,
    SwitchCounters,
    Trigger,
    Verdict,
)
from spotopt.domain.decisions.policy import MAX_EVALUATOR_PRIORITY, EngineKind, EvaluatorPriorities, PolicyDocument
from spotopt.domain.decisions.recommendation import decide
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError, UnusableTargetError
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.domain.shared.pools import Mode

NOW = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
TYPE = "t3.medium"
REGION = "us-east-1"
CURRENT = "t3.medium.us-east-1c"
TARGET = "t3.medium.us-east-1b"
AGENT = AgentId("agent-1")
POLICY = PolicyDocument(policy_version="v7")
D = Decimal


def make_pool(az: str = "us-east-1b", **overrides: Any) -> PoolSnapshot:
    instance_type = overrides.pop("instance_type", TYPE)
    values: dict[str, Any] = {
        "pool_id": f"{instance_type}.{az}",
        "instance_type": instance_type,
        "region": REGION,
        "az": az,
        "available": True,
        "price": D("0.011000"),
        "price_observed_at": NOW - timedelta(minutes=5),
        "price_confidence": D("1.00"),
        "stats": PoolStats(),
    }
    values.update(overrides)
    return PoolSnapshot(**values)


def current_pool(**overrides: Any) -> PoolSnapshot:
    return make_pool("us-east-1c", **{"price": D("0.013100"), **overrides})


def make_input(**overrides: Any) -> DecisionInput:
    values: dict[str, Any] = {
        "agent_id": AGENT,
        "thresholds": Thresholds(),
        "terminate_wait_seconds": 300,
        "mode": Mode.SPOT,
        "pool_id": CURRENT,
        "instance_type": TYPE,
        "region": REGION,
        "az": "us-east-1c",
        "placement_since": NOW - timedelta(hours=6),
        "baseline": D("0.041600"),
        "pools": (current_pool(), make_pool("us-east-1b")),
    }
    values.update(overrides)
    return DecisionInput(**values)


def ondemand_input(**overrides: Any) -> DecisionInput:
    return make_input(**{"mode": Mode.ONDEMAND, "pool_id": None, **overrides})


def rules(inp: DecisionInput, policy: PolicyDocument = POLICY) -> dict[str, PoolEstimate]:
    return RuleEstimator.for_policy(policy).estimate(inp.pools, NOW)


def run(
    inp: DecisionInput, policy: PolicyDocument = POLICY, estimates: Mapping[str, PoolEstimate] | None = None
) -> Decision:
    return decide(inp, rules(inp, policy) if estimates is None else estimates, policy, NOW)


def with_risk(inp: DecisionInput, pool_id: str, risk: str) -> dict[str, PoolEstimate]:
    estimates = rules(inp)
    estimates[pool_id] = dataclasses.replace(estimates[pool_id], risk=D(risk))
    return estimates


def noticed(hours_ago: float, t24: int = 1) -> PoolStats:
    return PoolStats(t24=t24, t7=max(t24, 1), t30=max(t24, 1), last_notice_at=NOW - timedelta(hours=hours_ago))


# §6.8 rule estimator ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "risk"),
    [
        (PoolStats(), "0.05"),
        (PoolStats(r24=2, r7=2), "0.15"),
        (PoolStats(t7=3, t30=3), "0.20"),
        (PoolStats(t24=1, t7=1, t30=1), "0.30"),
        (PoolStats(t24=5, t7=5, t30=5), "1"),
    ],
    ids=["quiet", "two-rebalances-24h", "three-notices-earlier-in-week", "one-notice-24h", "capped-at-1"],
)
def test_s68_rule_estimator_risk_examples(stats: PoolStats, risk: str) -> None:
    assert RuleEstimator.for_policy(POLICY).risk(stats) == D(risk)


def test_s68_one_notice_in_24h_scores_030_and_blocklists_the_pool() -> None:
    pool = make_pool(stats=noticed(hours_ago=3))
    estimate = RuleEstimator.for_policy(POLICY).estimate([pool], NOW)[pool.pool_id]
    assert estimate.risk == D("0.30")
    assert pool.is_blocklisted(POLICY, NOW)
    inp = make_input(pools=(current_pool(), pool))
    assert eligibility_verdict(pool, inp, estimate.risk, policy=POLICY, now=NOW) is Verdict.RECENT_INTERRUPTION


def test_s68_rule_estimator_forecasts_the_price_in_effect_with_confidence_060_and_policy_version() -> None:
    stale = make_pool("us-east-1d", price_observed_at=NOW - timedelta(hours=2))
    unpriced = make_pool("us-east-1e", price=None, price_observed_at=None, price_confidence=None)
    estimates = RuleEstimator.for_policy(POLICY).estimate([make_pool(), stale, unpriced], NOW)
    assert estimates[TARGET].forecast_price == D("0.011000")
    assert estimates[stale.pool_id].forecast_price == D("0.011000")
    assert estimates[unpriced.pool_id].forecast_price is None
    assert {e.confidence for e in estimates.values()} == {D("0.60")}
    assert {e.version for e in estimates.values()} == {"rules-v7"}
    assert not any(e.fallback_used for e in estimates.values())


def test_s68_rule_estimator_uses_the_policy_weights() -> None:
    policy = PolicyDocument.from_mapping({"engine_kind": "rules", "rule_estimator": {"base": 0.1, "r24": 0.2}}, "p2")
    assert RuleEstimator.for_policy(policy).risk(PoolStats(r24=1, r7=1)) == D("0.3")


def test_s62_pool_stats_reject_inconsistent_windows() -> None:
    with pytest.raises(InvalidValueError):
        PoolStats(t24=2, t7=1, t30=2)
    with pytest.raises(InvalidValueError):
        PoolStats(r24=1, r7=0)


# §6.5 recommendation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"deleted": True, "enabled": False}, ReasonCode.AGENT_DELETED),
        ({"enabled": False, "episode_open": True}, ReasonCode.AGENT_DISABLED),
        ({"episode_open": True, "switch_in_flight": True}, ReasonCode.EMERGENCY_IN_PROGRESS),
        ({"switch_in_flight": True, "has_primary": False}, ReasonCode.SWITCH_IN_FLIGHT),
        ({"has_primary": False}, ReasonCode.UNKNOWN_PLACEMENT),
        ({"mode": Mode.UNKNOWN}, ReasonCode.UNKNOWN_PLACEMENT),
        ({"pool_id": None}, ReasonCode.UNKNOWN_PLACEMENT),
    ],
)
def test_s65_step1_blocked_agent_stays_not_allowed(overrides: dict[str, Any], reason: ReasonCode) -> None:
    # The current pool is blocklisted too, so a step-2 risk exit would fire if step 1 did not decide first.
    decision = run(make_input(pools=(current_pool(stats=noticed(1)), make_pool()), **overrides))
    assert (decision.action, decision.allowed, decision.reason_code) == (Action.STAY, False, reason)
    assert decision.expected_hourly_savings == 0
    assert not decision.will_auto_execute


def test_s65_step2_blocklisted_current_pool_exits_to_best_pool_skipping_g4_to_g6() -> None:
    inp = make_input(
        pools=(current_pool(stats=noticed(2)), make_pool()),
        placement_since=NOW - timedelta(minutes=10),
        auto_terminate_enabled=False,
        terminate_wait_seconds=0,
    )
    decision = run(inp)
    assert (decision.action, decision.motive, decision.target_pool_id) == (Action.SWITCH_POOL, Motive.RISK, TARGET)
    assert (decision.allowed, decision.reason_code) == (True, ReasonCode.RISK_EXIT_TO_POOL)
    assert decision.target_mode is Mode.SPOT


def test_s65_step2_current_risk_above_threshold_exits() -> None:
    inp = make_input()
    decision = run(inp, estimates=with_risk(inp, CURRENT, "0.31"))
    assert (decision.action, decision.reason_code) == (Action.SWITCH_POOL, ReasonCode.RISK_EXIT_TO_POOL)


def test_s65_step2_current_risk_at_threshold_is_not_a_risk_exit() -> None:
    inp = make_input(pools=(current_pool(), make_pool(price=D("0.013000"))))
    decision = run(inp, estimates=with_risk(inp, CURRENT, "0.30"))
    assert decision.reason_code is ReasonCode.BELOW_MIN_SAVINGS


def test_s65_step2_without_eligible_pool_exits_to_ondemand() -> None:
    inp = make_input(pools=(current_pool(stats=noticed(2)), make_pool(stats=PoolStats(t7=6, t30=6))))
    decision = run(inp)
    assert (decision.action, decision.target_mode, decision.target_pool_id) == (
        Action.SWITCH_TO_ONDEMAND,
        Mode.ONDEMAND,
        None,
    )
    assert (decision.motive, decision.reason_code, decision.allowed) == (
        Motive.RISK,
        ReasonCode.RISK_EXIT_TO_ONDEMAND,
        True,
    )
    assert decision.risk == 0
    assert decision.expected_hourly_savings == D("0.013100") - D("0.041600")


def test_s65_step2_unknown_prices_never_block_a_risk_exit() -> None:
    stale = current_pool(stats=noticed(2), price_observed_at=NOW - timedelta(hours=1))
    decision = run(make_input(pools=(stale,), baseline=None))
    assert (decision.action, decision.allowed) == (Action.SWITCH_TO_ONDEMAND, True)
    assert decision.expected_hourly_savings is None
    assert decision.expected_savings_vs_ondemand is None


def test_s65_step2_risk_exit_is_held_by_the_daily_limit_keeping_action_and_target() -> None:
    inp = make_input(pools=(current_pool(stats=noticed(2)), make_pool()), counters=SwitchCounters(3, 3))
    decision = run(inp)
    assert (decision.action, decision.target_pool_id) == (Action.SWITCH_POOL, TARGET)
    assert (decision.allowed, decision.reason_code) == (False, ReasonCode.DAILY_LIMIT_REACHED)
    assert "Held back" in decision.reason


@pytest.mark.parametrize(
    "overrides",
    [
        {"baseline": None},
        {"pools": (current_pool(price_observed_at=NOW - timedelta(minutes=16)), make_pool())},
        {"pools": (current_pool(price_confidence=D("0.69")), make_pool())},
        {"pools": (current_pool(price=None, price_observed_at=None, price_confidence=None), make_pool())},
        {"pools": (make_pool(),)},
    ],
    ids=["no-baseline", "stale-current", "low-confidence-current", "unpriced-current", "current-not-in-catalogue"],
)
def test_s65_step3_insufficient_price_data_stays(overrides: dict[str, Any]) -> None:
    decision = run(make_input(**overrides))
    assert (decision.action, decision.allowed, decision.reason_code) == (
        Action.STAY,
        False,
        ReasonCode.INSUFFICIENT_PRICE_DATA,
    )


def test_s65_step3_ondemand_without_baseline_stays() -> None:
    assert run(ondemand_input(baseline=None)).reason_code is ReasonCode.INSUFFICIENT_PRICE_DATA


def test_s65_step4_no_other_eligible_pool_stays_no_better_pool() -> None:
    decision = run(make_input(pools=(current_pool(), make_pool(available=False))))
    assert (decision.action, decision.allowed, decision.reason_code) == (
        Action.STAY,
        False,
        ReasonCode.NO_BETTER_POOL,
    )


def test_s65_step4_worked_example_s55_switches_for_a_160_percent_improvement() -> None:
    decision = run(make_input())
    assert (decision.action, decision.motive, decision.reason_code) == (
        Action.SWITCH_POOL,
        Motive.SAVINGS,
        ReasonCode.CHEAPER_POOL,
    )
    assert (decision.target_mode, decision.target_pool_id, decision.allowed) == (Mode.SPOT, TARGET, True)
    assert decision.expected_hourly_savings == D("0.002100")
    assert decision.expected_savings_vs_ondemand == D("0.030600")
    assert decision.risk == D("0.05")
    assert decision.confidence == D("0.60")
    assert "16.0%" in decision.reason
    assert decision.will_auto_execute


def test_s65_step4_below_min_savings_stays() -> None:
    decision = run(make_input(pools=(current_pool(), make_pool(price=D("0.011200")))))  # 14.5 %
    assert (decision.action, decision.allowed, decision.reason_code) == (
        Action.STAY,
        False,
        ReasonCode.BELOW_MIN_SAVINGS,
    )
    assert (decision.target_mode, decision.target_pool_id) == (Mode.SPOT, CURRENT)
    assert decision.expected_hourly_savings == 0
    assert decision.risk == D("0.05")


def test_s65_step4_improvement_uses_the_forecasts() -> None:
    inp = make_input()
    estimates = rules(inp)
    estimates[TARGET] = dataclasses.replace(estimates[TARGET], forecast_price=D("0.012500"))
    assert run(inp, estimates=estimates).reason_code is ReasonCode.BELOW_MIN_SAVINGS


def test_s65_step5_ondemand_without_eligible_spot_pool_stays() -> None:
    decision = run(ondemand_input(pools=(make_pool(stats=noticed(1)),)))
    assert (decision.action, decision.reason_code) == (Action.STAY, ReasonCode.NO_ELIGIBLE_SPOT_POOL)
    assert (decision.target_mode, decision.target_pool_id, decision.risk) == (Mode.ONDEMAND, None, D(0))


def test_s65_step5_ondemand_returns_to_spot_when_it_saves_enough() -> None:
    decision = run(ondemand_input())
    assert (decision.action, decision.motive, decision.reason_code, decision.allowed) == (
        Action.SWITCH_TO_SPOT,
        Motive.RETURN_TO_SPOT,
        ReasonCode.RETURN_TO_SPOT,
        True,
    )
    assert decision.target_pool_id == TARGET
    assert decision.expected_hourly_savings == D("0.030600")


def test_s65_step5_ondemand_below_min_savings_stays() -> None:
    decision = run(ondemand_input(baseline=D("0.012000")))
    assert (decision.action, decision.reason_code) == (Action.STAY, ReasonCode.BELOW_MIN_SAVINGS)


# §6.6 execution guards ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"counters": SwitchCounters(3, 3)}, ReasonCode.DAILY_LIMIT_REACHED),
        ({"counters": SwitchCounters(0, 10)}, ReasonCode.WEEKLY_LIMIT_REACHED),
        ({"counters": SwitchCounters(0, 0, NOW - timedelta(minutes=29))}, ReasonCode.COOLDOWN),
        ({"placement_since": NOW - timedelta(minutes=119)}, ReasonCode.MIN_POOL_DURATION),
        ({"auto_terminate_enabled": False, "terminate_wait_seconds": 0}, ReasonCode.AUTO_TERMINATE_OFF),
        ({"thresholds": Thresholds(min_pool_duration_hours=0)}, ReasonCode.INSUFFICIENT_PAYBACK),
        ({"counters": SwitchCounters(3, 10), "placement_since": NOW}, ReasonCode.DAILY_LIMIT_REACHED),
        ({"counters": SwitchCounters(1, 10, NOW), "placement_since": NOW}, ReasonCode.WEEKLY_LIMIT_REACHED),
        ({"counters": SwitchCounters(0, 0, NOW), "placement_since": NOW}, ReasonCode.COOLDOWN),
        ({"placement_since": NOW, "auto_terminate_enabled": False}, ReasonCode.MIN_POOL_DURATION),
    ],
    ids=["G1", "G2", "G3", "G4", "G5", "G6", "G1-before-G2", "G2-before-G3", "G3-before-G4", "G4-before-G5"],
)
def test_s66_first_failing_guard_holds_a_savings_move(overrides: dict[str, Any], reason: ReasonCode) -> None:
    decision = run(make_input(**overrides))
    assert (decision.action, decision.target_pool_id, decision.motive) == (Action.SWITCH_POOL, TARGET, Motive.SAVINGS)
    assert (decision.allowed, decision.reason_code, decision.will_auto_execute) == (False, reason, False)


def test_s66_guards_pass_at_their_boundaries() -> None:
    inp = make_input(
        counters=SwitchCounters(2, 9, NOW - timedelta(minutes=30)), placement_since=NOW - timedelta(hours=2)
    )
    assert run(inp).allowed


def test_s66_g6_payback_equal_to_overlap_cost_fails_and_a_hair_more_passes() -> None:
    # 0.036 * (300 + 300) / 3600 = 0.006, and the saving is counted for max(1 h, 1) = 1 h.
    thresholds = Thresholds(min_pool_duration_hours=1)
    equal = make_input(thresholds=thresholds, pools=(current_pool(price=D("0.036")), make_pool(price=D("0.030"))))
    assert run(equal).reason_code is ReasonCode.INSUFFICIENT_PAYBACK
    more = dataclasses.replace(equal, pools=(current_pool(price=D("0.036")), make_pool(price=D("0.029999"))))
    assert run(more).allowed


def test_s66_g6_uses_the_policy_launch_overhead() -> None:
    policy = PolicyDocument.from_mapping({"engine_kind": "rules", "launch_overhead_seconds": 3600}, "p3")
    assert run(make_input(), policy=policy).reason_code is ReasonCode.INSUFFICIENT_PAYBACK


def test_s66_return_to_spot_is_subject_to_g4_to_g6() -> None:
    decision = run(ondemand_input(auto_terminate_enabled=False, terminate_wait_seconds=0))
    assert (decision.action, decision.allowed, decision.reason_code) == (
        Action.SWITCH_TO_SPOT,
        False,
        ReasonCode.AUTO_TERMINATE_OFF,
    )


def test_s66_zero_daily_switches_disables_automatic_moves() -> None:
    thresholds = Thresholds(max_switches_per_day=0)
    assert run(make_input(thresholds=thresholds)).reason_code is ReasonCode.DAILY_LIMIT_REACHED


def test_s66_held_decision_reports_retry_after_from_the_delivery_history() -> None:
    history = [NOW - timedelta(hours=20), NOW - timedelta(hours=10), NOW - timedelta(hours=2), NOW - timedelta(days=8)]
    counters = SwitchCounters.from_history(history, None, NOW)
    assert (counters.switches_24h, counters.switches_7d) == (3, 3)
    decision = run(make_input(counters=counters))
    assert decision.retry_after == NOW + timedelta(hours=4)
    cooldown = run(make_input(counters=SwitchCounters(0, 0, NOW - timedelta(minutes=10))))
    assert cooldown.retry_after == NOW + timedelta(minutes=20)


def test_s66_retry_after_waits_for_every_excess_delivery_to_leave_the_window() -> None:
    # Manual force-switches count towards G1 afterwards, so the count can exceed the limit.
    history = [NOW - timedelta(hours=h) for h in (20, 15, 10, 2)]
    counters = SwitchCounters.from_history(history, None, NOW)
    assert counters.frees_at(timedelta(hours=24), 3, NOW) == NOW + timedelta(hours=9)
    assert counters.frees_at(timedelta(hours=24), 4, NOW) == NOW + timedelta(hours=4)
    assert counters.frees_at(timedelta(hours=24), 5, NOW) is None
    assert counters.frees_at(timedelta(hours=24), 0, NOW) is None
    assert SwitchCounters(3, 3).frees_at(timedelta(hours=24), 3, NOW) is None


# DP-7 eligibility ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "verdict"),
    [
        (make_pool(), Verdict.ELIGIBLE),
        (make_pool(instance_type="t3.large"), Verdict.OTHER_TYPE_OR_REGION),
        (make_pool(region="us-west-2"), Verdict.OTHER_TYPE_OR_REGION),
        (make_pool(available=False), Verdict.UNAVAILABLE),
        (current_pool(), Verdict.CURRENT_POOL),
        (make_pool(price=None), Verdict.UNPRICED),
        (make_pool(price_observed_at=NOW - timedelta(minutes=16)), Verdict.UNPRICED),
        (make_pool(price_confidence=D("0.69")), Verdict.UNPRICED),
        (make_pool(stats=noticed(23.9)), Verdict.RECENT_INTERRUPTION),
        (make_pool(stats=PoolStats(t7=6, t30=6)), Verdict.RISK_ABOVE_THRESHOLD),
        (make_pool(available=False, price=None), Verdict.UNAVAILABLE),
        (make_pool(price=None, stats=noticed(1)), Verdict.UNPRICED),
        (make_pool(price_observed_at=NOW - timedelta(minutes=15), price_confidence=D("0.70")), Verdict.ELIGIBLE),
        (make_pool(stats=noticed(24, t24=0)), Verdict.ELIGIBLE),
        (make_pool(stats=PoolStats(t7=5, t30=5)), Verdict.ELIGIBLE),
    ],
    ids=[
        "eligible",
        "other-type",
        "other-region",
        "unavailable",
        "current-pool",
        "no-price",
        "stale-price",
        "low-confidence",
        "notice-within-24h",
        "risk-above-threshold",
        "first-failing-wins",
        "unpriced-before-blocklist",
        "freshness-boundaries-inclusive",
        "notice-exactly-24h-ago",
        "risk-at-threshold",
    ],
)
def test_dp7_eligibility_verdicts(pool: PoolSnapshot, verdict: Verdict) -> None:
    inp = make_input(pools=(pool,))
    risk = RuleEstimator.for_policy(POLICY).risk(pool.stats)
    assert eligibility_verdict(pool, inp, risk, policy=POLICY, now=NOW) is verdict


def test_dp7_unscored_pool_is_not_eligible() -> None:
    inp = make_input()
    estimates = rules(inp)
    del estimates[TARGET]
    decision = run(inp, estimates=estimates)
    assert decision.reason_code is ReasonCode.NO_BETTER_POOL
    assert {c.pool_id: c.verdict for c in decision.candidates}[TARGET] is Verdict.RISK_ABOVE_THRESHOLD


def test_dp7_ondemand_agent_has_no_current_pool() -> None:
    inp = ondemand_input(pools=(current_pool(),))
    assert eligibility_verdict(current_pool(), inp, D("0.05"), policy=POLICY, now=NOW) is Verdict.ELIGIBLE


def test_dp7_blocklist_window_and_freshness_come_from_the_policy() -> None:
    policy = PolicyDocument.from_mapping(
        {"engine_kind": "rules", "blocklist_hours": 1, "price_freshness_minutes": 60, "min_price_confidence": 0.5},
        "p4",
    )
    pool = make_pool(stats=noticed(2), price_observed_at=NOW - timedelta(minutes=45), price_confidence=D("0.6"))
    assert eligibility_verdict(pool, make_input(), D("0.05"), policy=policy, now=NOW) is Verdict.ELIGIBLE


def test_s63_candidates_list_eligible_pools_by_rank_then_the_others_at_most_five() -> None:
    pools = (
        current_pool(),
        make_pool("us-east-1a", price=D("0.0120")),
        make_pool("us-east-1b", price=D("0.0110")),
        make_pool("us-east-1d", available=False, price=D("0.0090")),
        make_pool("us-east-1e", price=None),
        make_pool("us-east-1f", stats=noticed(1), price=D("0.0100")),
    )
    decision = run(make_input(pools=pools))
    assert [(c.pool_id[-1], c.verdict) for c in decision.candidates] == [
        ("b", Verdict.ELIGIBLE),
        ("a", Verdict.ELIGIBLE),
        ("d", Verdict.UNAVAILABLE),
        ("f", Verdict.RECENT_INTERRUPTION),
        ("c", Verdict.CURRENT_POOL),
    ]
    assert decision.candidates[0].eligible
    assert not decision.candidates[2].eligible


# §6.7 ranking -------------------------------------------------------------------------------------------------


def ranked(pool_id: str, forecast: str, risk: str = "0.05", t7: int = 0) -> RankedPool:
    return RankedPool(pool_id, D(forecast), D(risk), t7)


@pytest.mark.parametrize(
    ("pools", "best"),
    [
        ([ranked("p-a", "0.0100", "0.10"), ranked("p-b", "0.0110", "0.05")], "p-a"),
        ([ranked("p-a", "0.0100", "0.10"), ranked("p-b", "0.01005", "0.05")], "p-b"),
        ([ranked("p-a", "0.0100", "0.10"), ranked("p-b", "0.01006", "0.05")], "p-a"),
        ([ranked("p-a", "0.0100", t7=2), ranked("p-b", "0.0100", t7=1)], "p-b"),
        ([ranked("p-b", "0.0100"), ranked("p-a", "0.01004")], "p-a"),
    ],
    ids=["lowest-forecast", "tie-band-lower-risk", "outside-band", "lower-t7", "pool-id"],
)
def test_s67_ranking(pools: list[RankedPool], best: str) -> None:
    chosen = best_pool(pools, D("0.5"))
    assert chosen is not None
    assert chosen.pool_id == best
    reverse = best_pool(list(reversed(pools)), D("0.5"))
    assert reverse == chosen


def test_s67_tie_band_is_measured_from_the_lowest_forecast_through_decide() -> None:
    inp = make_input(
        pools=(
            current_pool(),
            make_pool("us-east-1a", price=D("0.011000"), stats=PoolStats(r24=1, r7=1)),
            make_pool("us-east-1b", price=D("0.011050")),
        )
    )
    assert run(inp).target_pool_id == "t3.medium.us-east-1b"


def test_s67_tie_tolerance_comes_from_the_policy() -> None:
    pools = [ranked("p-a", "0.0100", "0.10"), ranked("p-b", "0.0102", "0.05")]
    assert [p.pool_id for p in rank_pools(pools, D("0.5"))] == ["p-a", "p-b"]
    assert [p.pool_id for p in rank_pools(pools, D("2"))] == ["p-b", "p-a"]


@given(st.permutations([ranked(f"p-{i}", f"0.010{i % 3}", f"0.0{i % 2}", i % 4) for i in range(6)]))
def test_s67_dp4_ranking_does_not_depend_on_input_order(pools: list[RankedPool]) -> None:
    assert rank_pools(pools, D("0.5")) == rank_pools(sorted(pools, key=lambda p: p.pool_id), D("0.5"))


# §6.3 outputs -------------------------------------------------------------------------------------------------


def test_s63_decision_never_allows_a_stay() -> None:
    decision = run(make_input(enabled=False))
    with pytest.raises(InvalidValueError):
        dataclasses.replace(decision, allowed=True)


def test_s63_will_auto_execute_needs_auto_switch() -> None:
    decision = run(make_input(auto_switch_enabled=False))
    assert decision.allowed
    assert not decision.will_auto_execute


def test_dp5_placement_mismatch_flag_and_provenance() -> None:
    inp = make_input(placement_mismatch=True, trigger=Trigger.DECIDE_REQUEST)
    decision = run(inp)
    assert decision.flags == ("placement_mismatch",)
    assert decision.trigger is Trigger.DECIDE_REQUEST
    assert (decision.engine_kind, decision.policy_version) == (EngineKind.RULES, "v7")
    assert (decision.risk_model_version, decision.price_model_version, decision.fallback_used) == (
        "rules-v7",
        "rules-v7",
        False,
    )
    assert decision.decision_id is None
    stored = decision.with_ids("d-1", "c-1")
    assert (stored.decision_id, stored.command_id) == ("d-1", "c-1")


def test_dp3_fallback_and_mixed_model_versions_are_recorded() -> None:
    inp = make_input()
    estimates = rules(inp)
    estimates[CURRENT] = dataclasses.replace(estimates[CURRENT], version="risk-3", price_version="price-2")
    estimates[TARGET] = dataclasses.replace(estimates[TARGET], fallback_used=True)
    decision = run(inp, policy=dataclasses.replace(POLICY, engine_kind=EngineKind.CATBOOST), estimates=estimates)
    assert decision.engine_kind is EngineKind.CATBOOST
    assert decision.risk_model_version == "risk-3,rules-v7"
    assert decision.price_model_version == "price-2,rules-v7"
    assert decision.fallback_used


def test_s63_confidence_is_the_minimum_of_price_and_estimator_confidences() -> None:
    inp = make_input(pools=(current_pool(price_confidence=D("0.80")), make_pool(price_confidence=D("0.95"))))
    estimates = {k: dataclasses.replace(v, confidence=D("0.90")) for k, v in rules(inp).items()}
    assert run(inp, estimates=estimates).confidence == D("0.80")


# A14 issue-switch checks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counters", "code", "retry_after"),
    [
        (
            SwitchCounters.from_history([NOW - timedelta(hours=h) for h in (23, 5, 1)], None, NOW),
            "daily_limit_reached",
            NOW + timedelta(hours=1),
        ),
        (SwitchCounters(0, 10), "weekly_limit_reached", None),
        (SwitchCounters(0, 0, NOW - timedelta(minutes=5)), "cooldown", NOW + timedelta(minutes=25)),
    ],
)
def test_a14_guards_g1_to_g3_refuse_with_409_and_retry_after(
    counters: SwitchCounters, code: str, retry_after: datetime | None
) -> None:
    with pytest.raises(RuleConflictError) as caught:
        check_api_command(make_input(counters=counters), Mode.SPOT, TARGET, POLICY, NOW)
    assert caught.value.code == code
    assert caught.value.detail["retry_after"] == retry_after


@pytest.mark.parametrize(
    ("pools", "target", "code"),
    [
        ((make_pool(instance_type="t3.large"),), "t3.large.us-east-1b", "other_type_or_region"),
        ((), "t3.medium.us-west-2a", "other_type_or_region"),
        ((), "t3.medium.us-east-1f", "unavailable"),
        ((make_pool(available=False),), TARGET, "unavailable"),
        ((make_pool(price_observed_at=NOW - timedelta(hours=1)),), TARGET, "unpriced"),
        ((make_pool(stats=noticed(3)),), TARGET, "recent_interruption"),
    ],
)
def test_a14_target_failing_dp7_conditions_1_to_5_is_refused_with_422(
    pools: tuple[PoolSnapshot, ...], target: str, code: str
) -> None:
    with pytest.raises(UnusableTargetError) as caught:
        check_api_command(make_input(pools=pools), Mode.SPOT, target, POLICY, NOW)
    assert caught.value.code == code


def test_a14_risk_and_ondemand_targets_pass() -> None:
    inp = make_input(pools=(make_pool(stats=PoolStats(t7=19, t30=19)),))
    check_api_command(inp, Mode.SPOT, TARGET, POLICY, NOW)
    check_api_command(inp, Mode.ONDEMAND, None, POLICY, NOW)
    assert Verdict.RISK_ABOVE_THRESHOLD not in API_CONDITIONS
    assert Verdict.CURRENT_POOL not in API_CONDITIONS


def test_a14_spot_target_needs_a_pool() -> None:
    with pytest.raises(InvalidValueError):
        check_api_command(make_input(), Mode.SPOT, None, POLICY, NOW)


# DP-14 storage and pitfall 19 switch_limited ------------------------------------------------------------------


def test_dp14_evaluator_stores_on_change_on_command_or_hourly() -> None:
    first = run(make_input(counters=SwitchCounters(0, 0, NOW - timedelta(minutes=10))))
    same = dataclasses.replace(first, evaluated_at=NOW + timedelta(minutes=5))
    later = dataclasses.replace(first, evaluated_at=NOW + timedelta(hours=1))
    changed = run(make_input())
    assert should_store(first, None, command_created=False)
    assert not should_store(same, first, command_created=False)
    assert should_store(same, first, command_created=True)
    assert should_store(later, first, command_created=False)
    assert should_store(changed, first, command_created=False)
    request = dataclasses.replace(same, trigger=Trigger.RECOMMENDATION_REQUEST)
    assert should_store(request, first, command_created=False)


def test_pitfall19_switch_limited_is_emitted_for_evaluator_moves_held_by_g1_to_g3_once_per_day() -> None:
    decision = run(make_input(counters=SwitchCounters(0, 0, NOW - timedelta(minutes=10))))
    event = switch_limited_event(decision, ClientId("client-1"), "web-1")
    assert event is not None
    assert event.notification is not None
    assert (event.type, event.agent_id, event.client_id) == ("switch_limited", AGENT, "client-1")
    assert event.notification.dedup_key == "switch_limited:agent-1:2026-03-11"
    assert event.notification.name == "switch-limited"
    assert "web-1: the switch cooldown reached" in event.message
    assert "2026-03-11T10:20:00Z" in event.message
    later = dataclasses.replace(decision, evaluated_at=NOW + timedelta(hours=5))
    later_event = switch_limited_event(later, ClientId("client-1"), "web-1")
    assert later_event is not None
    assert later_event.notification is not None
    assert later_event.notification.dedup_key == event.notification.dedup_key


@pytest.mark.parametrize(
    "inp",
    [
        make_input(placement_since=NOW),
        make_input(),
        make_input(enabled=False),
        make_input(counters=SwitchCounters(3, 3), trigger=Trigger.DECIDE_REQUEST),
    ],
    ids=["held-by-G4", "allowed", "stay", "request-trigger"],
)
def test_pitfall19_switch_limited_is_not_emitted_otherwise(inp: DecisionInput) -> None:
    decision = run(inp)
    assert not is_switch_limited(decision)
    assert switch_limited_event(decision, ClientId("client-1"), "web-1") is None


# DP-17 / M18 policy document ----------------------------------------------------------------------------------


def test_dp17_policy_defaults() -> None:
    p = PolicyDocument()
    assert p.engine_kind is EngineKind.RULES
    assert p.default_thresholds == Thresholds()
    assert (p.blocklist_hours, p.price_freshness_minutes, p.launch_overhead_seconds) == (24, 15, 300)
    assert (p.min_price_confidence, p.tie_tolerance_percent) == (D("0.70"), D("0.5"))
    weights = p.rule_estimator
    assert (weights.base, weights.t24, weights.t7, weights.r24) == (D("0.05"), D("0.25"), D("0.05"), D("0.05"))
    assert (p.priority_for(Motive.SAVINGS), p.priority_for(Motive.RISK), p.priority_for(Motive.RETURN_TO_SPOT)) == (
        25,
        50,
        25,
    )
    assert (p.estimator_budgets_ms.decision, p.estimator_budgets_ms.emergency) == (200, 50)


def test_m18_minimal_document_takes_every_default_and_round_trips() -> None:
    minimal = PolicyDocument.from_mapping({"engine_kind": "rules"}, "v1")
    assert minimal == PolicyDocument(policy_version="v1")
    full = PolicyDocument.from_mapping(
        {
            "engine_kind": "catboost",
            "default_thresholds": {"min_savings_percent": 20, "risk_threshold": 0.25, "max_switches_per_day": 2},
            "blocklist_hours": 48,
            "tie_tolerance_percent": 1,
            "evaluator_priorities": {"savings": 30, "risk": 60, "return_to_spot": 20},
            "catboost_training": {"iterations": 100, "learning_rate": 0.1, "seed": 7},
            "notes": "tuned",
        },
        "v2",
    )
    assert full.default_thresholds.risk_threshold == D("0.25")
    assert full.catboost_training.learning_rate == D("0.1")
    assert PolicyDocument.from_mapping(full.to_mapping(), "v2") == full
    assert full.to_mapping()["engine_kind"] == "catboost"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "engine_kind"),
        ({"engine_kind": "xgboost"}, "engine_kind"),
        ({"engine_kind": ["rules"]}, "engine_kind"),
        ({"engine_kind": "rules", "code": "import os"}, "code"),
        ({"engine_kind": "rules", "blocklist_hours": 169}, "blocklist_hours"),
        ({"engine_kind": "rules", "blocklist_hours": True}, "blocklist_hours"),
        ({"engine_kind": "rules", "price_freshness_minutes": 4}, "price_freshness_minutes"),
        ({"engine_kind": "rules", "min_price_confidence": 1.01}, "min_price_confidence"),
        ({"engine_kind": "rules", "tie_tolerance_percent": 10.5}, "tie_tolerance_percent"),
        ({"engine_kind": "rules", "tie_tolerance_percent": "1"}, "tie_tolerance_percent"),
        ({"engine_kind": "rules", "launch_overhead_seconds": 3601}, "launch_overhead_seconds"),
        ({"engine_kind": "rules", "rule_estimator": {"t24": 1.5}}, "rule_estimator.t24"),
        ({"engine_kind": "rules", "rule_estimator": {"t99": 0.1}}, "rule_estimator.t99"),
        ({"engine_kind": "rules", "rule_estimator": [0.1]}, "rule_estimator"),
        ({"engine_kind": "rules", "evaluator_priorities": {"risk": 75}}, "evaluator_priorities.risk"),
        ({"engine_kind": "rules", "evaluator_priorities": {"savings": 0}}, "evaluator_priorities.savings"),
        ({"engine_kind": "rules", "estimator_budgets_ms": {"decision": 5001}}, "estimator_budgets_ms.decision"),
        ({"engine_kind": "rules", "catboost_training": {"depth": 11}}, "catboost_training.depth"),
        ({"engine_kind": "rules", "catboost_training": {"learning_rate": 0}}, "catboost_training.learning_rate"),
        ({"engine_kind": "rules", "catboost_training": {"thread_count": 17}}, "catboost_training.thread_count"),
        ({"engine_kind": "rules", "default_thresholds": {"risk_threshold": 2}}, "default_thresholds.risk_threshold"),
        (
            {"engine_kind": "rules", "default_thresholds": {"max_switches_per_week": 1, "max_switches_per_day": 2}},
            "default_thresholds.max_switches_per_week",
        ),
        ({"engine_kind": "rules", "notes": "x" * 1001}, "notes"),
    ],
)
def test_m18_invalid_document_is_rejected_naming_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        PolicyDocument.from_mapping(document, "bad")
    assert caught.value.field == field


@given(st.integers(-5, 200), st.integers(-5, 200), st.integers(-5, 200))
def test_pitfall15_evaluator_priorities_from_any_valid_policy_are_below_75(
    savings: int, risk: int, return_to_spot: int
) -> None:
    document = {
        "engine_kind": "rules",
        "evaluator_priorities": {"savings": savings, "risk": risk, "return_to_spot": return_to_spot},
    }
    try:
        policy = PolicyDocument.from_mapping(document, "p")
    except InvalidValueError:
        assert max(savings, risk, return_to_spot) > MAX_EVALUATOR_PRIORITY or min(savings, risk, return_to_spot) < 1
        return
    assert all(policy.priority_for(m) < 75 for m in (Motive.SAVINGS, Motive.RISK, Motive.RETURN_TO_SPOT))


def test_pitfall15_evaluator_priorities_reject_75() -> None:
    with pytest.raises(InvalidValueError):
        EvaluatorPriorities(risk=75)
    with pytest.raises(InvalidValueError):
        PolicyDocument().priority_for(Motive.NONE)


# Properties over random decision inputs ------------------------------------------------------------------------

AZS = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
RARE = st.sampled_from([False, False, False, False, True])
OFTEN = st.sampled_from([True, True, True, True, False])


@st.composite
def pool_snapshots(draw: st.DrawFn, az: str) -> PoolSnapshot:
    t24 = draw(st.integers(0, 2))
    t7 = t24 + draw(st.integers(0, 4))
    r24 = draw(st.integers(0, 3))
    hours = draw(st.integers(0, 23)) if t24 else (draw(st.integers(24, 160)) if t7 else None)
    stats = PoolStats(
        t24=t24,
        t7=t7,
        t30=t7,
        r24=r24,
        r7=r24,
        last_notice_at=None if hours is None else NOW - timedelta(hours=hours),
    )
    price = draw(st.none() | st.decimals(min_value=D("0.0050"), max_value=D("0.0500"), places=4))
    return make_pool(
        az,
        instance_type=draw(st.sampled_from([TYPE, TYPE, TYPE, "t3.large"])),
        available=draw(OFTEN),
        price=price,
        price_observed_at=NOW - timedelta(minutes=draw(st.integers(0, 25))),
        price_confidence=draw(st.sampled_from([D("0.60"), D("0.70"), D("0.90"), D("1.00")])),
        stats=stats,
    )


@st.composite
def estimates_for(draw: st.DrawFn, pools: tuple[PoolSnapshot, ...]) -> dict[str, PoolEstimate]:
    if draw(st.booleans()):
        return RuleEstimator.for_policy(POLICY).estimate(pools, NOW)
    result: dict[str, PoolEstimate] = {}
    for pool in pools:
        if draw(RARE):
            continue
        result[pool.pool_id] = PoolEstimate(
            pool_id=pool.pool_id,
            risk=draw(st.decimals(min_value=0, max_value=1, places=2)),
            forecast_price=draw(st.none() | st.decimals(min_value=D("0.0050"), max_value=D("0.0500"), places=5)),
            confidence=draw(st.decimals(min_value=0, max_value=1, places=2)),
            version=draw(st.sampled_from(["cb-1", "cb-2", "rules-v7"])),
            fallback_used=draw(st.booleans()),
        )
    return result


@st.composite
def decision_cases(draw: st.DrawFn) -> tuple[DecisionInput, dict[str, PoolEstimate]]:
    pools = tuple(draw(pool_snapshots(az)) for az in AZS[: draw(st.integers(0, 6))])
    per_day = draw(st.integers(0, 4))
    thresholds = Thresholds(
        min_savings_percent=draw(st.decimals(min_value=0, max_value=40, places=1)),
        risk_threshold=draw(st.decimals(min_value=0, max_value=1, places=2)),
        max_switches_per_day=per_day,
        max_switches_per_week=per_day + draw(st.integers(0, 6)),
        min_pool_duration_hours=draw(st.integers(0, 3)),
        cooldown_minutes=draw(st.integers(0, 60)),
    )
    s24 = draw(st.integers(0, 4))
    last_move = draw(st.none() | st.integers(0, 120).map(lambda m: NOW - timedelta(minutes=m)))
    mode = draw(st.sampled_from([Mode.SPOT, Mode.SPOT, Mode.ONDEMAND, None]))
    inp = make_input(
        thresholds=thresholds,
        terminate_wait_seconds=draw(st.sampled_from([0, 30, 300, 3600])),
        mode=mode,
        pool_id=f"{TYPE}.{draw(st.sampled_from(AZS))}" if mode is Mode.SPOT else None,
        placement_since=NOW - timedelta(minutes=draw(st.integers(0, 600))),
        baseline=draw(st.none() | st.decimals(min_value=D("0.0100"), max_value=D("0.0600"), places=4)),
        pools=pools,
        counters=SwitchCounters(s24, s24 + draw(st.integers(0, 6)), last_move),
        has_primary=draw(OFTEN),
        deleted=draw(RARE),
        enabled=draw(OFTEN),
        auto_switch_enabled=draw(st.booleans()),
        auto_terminate_enabled=draw(OFTEN),
        episode_open=draw(RARE),
        switch_in_flight=draw(RARE),
    )
    return inp, draw(estimates_for(pools))


@given(decision_cases())
def test_s63_property_allowed_is_false_for_every_stay(case: tuple[DecisionInput, dict[str, PoolEstimate]]) -> None:
    inp, estimates = case
    decision = decide(inp, estimates, POLICY, NOW)
    if decision.action is Action.STAY:
        assert not decision.allowed
        assert not decision.will_auto_execute
        assert decision.expected_hourly_savings == 0
    assert decision.will_auto_execute == (decision.allowed and inp.auto_switch_enabled and inp.enabled)


@given(decision_cases(), st.data())
def test_dp4_property_decisions_are_deterministic_and_ignore_pool_order(
    case: tuple[DecisionInput, dict[str, PoolEstimate]], data: st.DataObject
) -> None:
    inp, estimates = case
    first = decide(inp, estimates, POLICY, NOW)
    assert decide(inp, estimates, POLICY, NOW) == first
    shuffled_pools = data.draw(st.permutations(inp.pools))
    shuffled_estimates = dict(reversed(list(estimates.items())))
    shuffled = dataclasses.replace(inp, pools=tuple(shuffled_pools))
    assert decide(shuffled, shuffled_estimates, POLICY, NOW) == first


@given(decision_cases())
def test_dp7_property_a_switch_target_is_always_eligible(case: tuple[DecisionInput, dict[str, PoolEstimate]]) -> None:
    inp, estimates = case
    decision = decide(inp, estimates, POLICY, NOW)
    if decision.action in (Action.SWITCH_POOL, Action.SWITCH_TO_SPOT):
        target = inp.pool(decision.target_pool_id)
        assert target is not None
        risk = estimates[target.pool_id].risk
        assert eligibility_verdict(target, inp, risk, policy=POLICY, now=NOW) is Verdict.ELIGIBLE
        assert decision.candidates[0].pool_id == target.pool_id


@given(decision_cases())
def test_s65_property_a_risk_exit_never_selects_a_pool_above_the_risk_threshold(
    case: tuple[DecisionInput, dict[str, PoolEstimate]],
) -> None:
    inp, estimates = case
    decision = decide(inp, estimates, POLICY, NOW)
    if decision.motive is Motive.RISK and decision.target_pool_id is not None:
        assert decision.risk <= inp.thresholds.risk_threshold
        assert estimates[decision.target_pool_id].risk <= inp.thresholds.risk_threshold
        target = inp.pool(decision.target_pool_id)
        assert target is not None
        assert not target.is_blocklisted(POLICY, NOW)
