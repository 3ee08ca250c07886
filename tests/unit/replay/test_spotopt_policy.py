"""The replay drives spotopt's real domain functions: changing the domain policy changes the replay's choices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from spotopt.domain.decisions import recommendation
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.interruptions import emergency, lifecycle
from spotopt.domain.replicas import pool_selection
from spotopt.domain.replicas.precaution import PrecautionSettings
from spotopt.entrypoints.replay import emergency_desk, spotopt_policy
from spotopt.entrypoints.replay.agent_state import SpotoptSettings
from spotopt.entrypoints.replay.cloud import Cloud, CloudSettings
from spotopt.entrypoints.replay.market import Market
from spotopt.entrypoints.replay.results import ReplayResult
from spotopt.entrypoints.replay.spotopt_policy import SpotoptPolicy
from tests.unit.replay.markets import market

EPOCH = datetime(2023, 2, 15, tzinfo=UTC)


# 1a goes down at 240 s for two ticks; 1b at 480 s for good; 1c never.
def two_failovers() -> Market:
    return market(a="1111" + "00" + "1" * 14, b="1" * 8 + "0" * 12, c="1" * 20)


def replay(m: Market, settings: SpotoptSettings, cold_start: int = 60) -> tuple[SpotoptPolicy, Cloud]:
    policy = SpotoptPolicy("spotopt", m.zone_names, instance_type="p3.2xlarge", epoch=EPOCH, settings=settings)
    cloud = Cloud(m, CloudSettings(cold_start=cold_start, notice_seconds=60))
    cloud.run(policy)
    return policy, cloud


def final_zone(cloud: Cloud) -> str | None:
    served = [i for i in cloud.instances if i.ended_at == cloud.market.duration and not i.preempted]
    return served[0].zone if len(served) == 1 else None


def test_the_replay_calls_the_domain_functions_themselves() -> None:
    assert vars(spotopt_policy)["decide"] is recommendation.decide
    assert vars(emergency_desk)["select_emergency_pool"] is pool_selection.select_emergency_pool
    assert vars(emergency_desk)["termination_outcome"] is emergency.termination_outcome
    assert vars(emergency_desk)["episode_on"] is lifecycle.episode_on


def test_failovers_follow_dp7_blocklist_and_the_rule_estimator() -> None:
    # Default policy: at 1b's notice 1a had a notice within 24 h (blocklisted, §3.7.1 tier T3), so 1c wins.
    policy, cloud = replay(two_failovers(), SpotoptSettings())
    assert final_zone(cloud) == "us-east-1c"
    assert policy.emergency.outcomes["episode:failed_over"] == 2
    # Each replica warms up exactly at its deadline, but RP-4b promotes it degraded once the deadline is < 30 s
    # away (at the 15 s step before it), and a warming instance cannot serve: 15 s of outage per failover.
    assert ReplayResult.of("x", cloud).outage_seconds == 30


def test_a_policy_document_without_blocklist_or_notice_weights_changes_the_choice() -> None:
    document = PolicyDocument.from_mapping(
        {"engine_kind": "rules", "blocklist_hours": 0, "rule_estimator": {"t24": 0, "t7": 0}}, policy_version="t"
    )
    # 1a and 1c now score the same risk; the pool id breaks the tie (§3.7.1 step 3).
    _, cloud = replay(two_failovers(), SpotoptSettings(policy=document))
    assert final_zone(cloud) == "us-east-1a"


def test_every_evaluator_tick_is_a_real_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        decision = recommendation.decide(*args, **kwargs)
        calls.append(decision)
        return decision

    monkeypatch.setattr(spotopt_policy, "decide", spy)
    replay(two_failovers(), SpotoptSettings())
    assert len(calls) == 4  # 0, 300, 600 and 900 s
    assert all(d.engine_kind == "rules" and d.risk_model_version == "rules-builtin" for d in calls)


def test_rp11_a_precautionary_standby_turns_a_late_failover_into_an_instant_one() -> None:
    # Cold start 120 s, notice 60 s: a replica started at the notice is late; a standby held from the start is not.
    m = market(a="1" * 10 + "0" * 10, b="1" * 20)
    _, plain = replay(m, SpotoptSettings(), cold_start=120)
    _, held = replay(m, SpotoptSettings(precaution=PrecautionSettings(Decimal(1))), cold_start=120)
    without, with_standby = ReplayResult.of("off", plain), ReplayResult.of("on", held)
    assert without.outage_seconds > 0
    assert with_standby.outage_seconds == 0
    assert with_standby.cost > without.cost


def test_no_other_pool_means_the_on_demand_fallback_then_a_return_to_spot() -> None:
    # 1a is the only zone: down from 240 s to 480 s. §3.7.2 step 4, then the evaluator's return_to_spot (§6.5 step 5).
    document = PolicyDocument.from_mapping(
        {
            "engine_kind": "rules",
            "blocklist_hours": 0,
            "default_thresholds": {"min_pool_duration_hours": 0, "cooldown_minutes": 0},
        },
        "t",
    )
    policy, cloud = replay(market(a="1111" + "0000" + "1" * 12), SpotoptSettings(policy=document))
    _, blocked = replay(market(a="1111" + "0000" + "1" * 12), SpotoptSettings())
    assert final_zone(blocked) is None  # the default 24 h blocklist keeps 1a out of E: it stays on on-demand
    result = ReplayResult.of("x", cloud)
    assert policy.emergency.outcomes["notice:queue_fallback"] == 1
    assert result.ondemand_hours > 0
    assert final_zone(cloud) == "us-east-1a"
    assert policy.decisions["switch_to_spot:return_to_spot"] == 1


def test_without_notices_a_failover_at_the_preemption_keeps_the_new_primary() -> None:
    # 1a is preempted at 360 s with no notice; the RP-11 standby in 1b takes over; then 1b is preempted at 1200 s
    # and 1a (back since 600 s) takes over: the agent must still know its primary after the first failover.
    m = market(a="1" * 6 + "0" * 4 + "1" * 30, b="1" * 20 + "0" * 20)
    policy = SpotoptPolicy(
        "spotopt", m.zone_names, instance_type="p3.2xlarge", epoch=EPOCH,
        settings=SpotoptSettings(precaution=PrecautionSettings(Decimal(6))),
    )  # fmt: skip
    cloud = Cloud(m, CloudSettings(cold_start=120, notice_seconds=60, notices=False))
    cloud.run(policy)
    assert policy.emergency.outcomes["episode:failed_over"] == 2
    assert policy.agent.primary is not None
    assert policy.agent.primary.zone == "us-east-1a"
