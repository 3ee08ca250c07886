"""A12 / A13 through DecideForAgent: DP-3, DP-5, DP-14, §3.6 will_auto_execute, §6.2 inputs (EP-8 counting)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.decisions.decide_for_agent import (
    DecideForAgent,
    DecideForAgentCommand,
    DecideForAgentResult,
    SuppliedPlacement,
)
from spotopt.application.errors import NotFoundError
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.decisions.decision import Action, Decision
from spotopt.domain.decisions.inputs import DecisionInput, Motive, ReasonCode, Trigger, Verdict
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from spotopt.domain.shared.pools import Mode
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    ENGINE,
    NOW,
    OTHER,
    PRIMARY,
    add_signal,
    make_agent,
    make_command,
    open_episode,
    seed_market,
    wiring,
)
from tests.fakes.uow import InMemoryUnitOfWork, InScope

D = Decimal


class FailingEngine:
    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision:
        raise RuntimeError("model store unreachable")


async def setup(uow: InMemoryUnitOfWork, **agent: Any) -> None:
    await uow.agents.add(make_agent(**agent))
    await seed_market(uow)


def sut(
    uow: InMemoryUnitOfWork, engine: Any = ENGINE, policy: PolicyDocument | None = None
) -> InScope[[DecideForAgentCommand], DecideForAgentResult]:
    return InScope(DecideForAgent(engine=engine, **wiring(uow, policy)).execute, uow)


async def decide(uow: InMemoryUnitOfWork, **kwargs: Any) -> Decision:
    command = DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1", **kwargs)
    return (await sut(uow).execute(command)).decision


async def test_dp14_a12_decision_is_stored_with_an_id_and_creates_no_command(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    result = await sut(uow).execute(DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1"))
    decision = result.decision
    assert decision.trigger is Trigger.DECIDE_REQUEST
    assert decision.decision_id is not None
    assert uow.store.decisions == {decision.decision_id: decision}
    assert uow.store.commands == {}
    assert uow.commits == 1
    assert result.logical_agent_id == "web-1"


async def test_dp14_a13_recommendation_is_stored_with_its_trigger(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    decision = await decide(uow, trigger=Trigger.RECOMMENDATION_REQUEST)
    assert decision.trigger is Trigger.RECOMMENDATION_REQUEST
    assert list(uow.store.decisions.values()) == [decision]


async def test_request_decisions_refuse_the_evaluator_trigger(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    with pytest.raises(InvalidValueError):
        await decide(uow, trigger=Trigger.EVALUATOR)


async def test_unknown_or_foreign_agent_is_not_found(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    with pytest.raises(NotFoundError):
        await sut(uow).execute(DecideForAgentCommand(client_id=ClientId("client-2"), agent_id="agent-1"))
    with pytest.raises(NotFoundError):
        await sut(uow).execute(DecideForAgentCommand(client_id=CLIENT, agent_id="nope"))
    assert uow.store.decisions == {}


async def test_decision_uses_server_market_state_for_a_cheaper_pool(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    decision = await decide(uow)
    assert (decision.action, decision.motive, decision.target_pool_id) == (Action.SWITCH_POOL, Motive.SAVINGS, CHEAP)
    assert decision.allowed is True
    assert decision.expected_hourly_savings == D("0.003100")
    assert decision.expected_savings_vs_ondemand == D("0.031600")
    assert decision.engine_kind is EngineKind.RULES
    assert decision.risk_model_version == "rules-builtin"
    assert decision.policy_version == "builtin"
    assert decision.fallback_used is False
    assert [c.pool_id for c in decision.candidates] == [CHEAP, OTHER, CURRENT]
    assert decision.candidates[-1].verdict is Verdict.CURRENT_POOL


@pytest.mark.parametrize(
    ("supplied", "flagged"),
    [
        (SuppliedPlacement(instance_id=str(PRIMARY), mode=Mode.SPOT, pool_id=CURRENT, az="us-east-1c"), False),
        (SuppliedPlacement(), False),
        (SuppliedPlacement(mode=Mode.UNKNOWN, instance_type="unknown"), False),
        (SuppliedPlacement(pool_id=CHEAP), True),
        (SuppliedPlacement(mode=Mode.ONDEMAND), True),
        (SuppliedPlacement(instance_id="i-0fffffffffffffff0"), True),
        (SuppliedPlacement(instance_type="t3.large"), True),
    ],
)
async def test_dp5_differing_supplied_placement_adds_placement_mismatch_only(
    uow: InMemoryUnitOfWork, supplied: SuppliedPlacement, flagged: bool
) -> None:
    await setup(uow)
    decision = await decide(uow, supplied=supplied)
    assert decision.flags == (("placement_mismatch",) if flagged else ())
    # DP-5: the claim never replaces server state.
    assert decision.target_pool_id == CHEAP


async def test_dp3_failing_engine_falls_back_to_rules_and_the_request_still_succeeds(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    result = await sut(uow, engine=FailingEngine()).execute(DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1"))
    assert result.decision.fallback_used is True
    assert result.decision.action is Action.SWITCH_POOL
    assert uow.store.decisions


async def test_dp3_catboost_policy_without_a_model_is_served_by_rules_as_fallback(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    policy = PolicyDocument(engine_kind=EngineKind.CATBOOST, policy_version="v2")
    command = DecideForAgentCommand(client_id=CLIENT, agent_id="agent-1")
    decision = (await sut(uow, policy=policy).execute(command)).decision
    assert (decision.engine_kind, decision.fallback_used, decision.risk_model_version) == (
        EngineKind.CATBOOST,
        True,
        "rules-v2",
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"auto_switch_enabled": True, "manual_replica_enabled": False}, True),
        ({"auto_switch_enabled": False, "manual_replica_enabled": True}, False),
        ({"auto_switch_enabled": False, "manual_replica_enabled": False}, False),
    ],
    ids=["auto-switch", "manual-replica", "observe"],
)
async def test_s3_6_will_auto_execute_only_in_auto_switch_mode(
    uow: InMemoryUnitOfWork, flags: dict[str, bool], expected: bool
) -> None:
    await setup(uow, **flags)
    decision = await decide(uow)
    assert decision.allowed is True
    assert decision.will_auto_execute is expected


async def test_s3_6_disabled_agent_gets_a_stay_that_never_auto_executes(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, enabled=False)
    decision = await decide(uow)
    assert (decision.action, decision.reason_code, decision.will_auto_execute) == (
        Action.STAY,
        ReasonCode.AGENT_DISABLED,
        False,
    )


async def test_open_episode_and_live_switch_hold_the_decision(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    await uow.commands.add(make_command(agent))
    assert (await decide(uow)).reason_code is ReasonCode.SWITCH_IN_FLIGHT
    await uow.episodes.add(open_episode(agent))
    assert (await decide(uow)).reason_code is ReasonCode.EMERGENCY_IN_PROGRESS


async def test_ep8_every_fleet_notice_counts_whatever_client_or_agent_settings(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    # A notice seen by a disabled agent of another client still blocklists the pool for everyone.
    await uow.agents.add(make_agent(agent_id="agent-9", client_id=ClientId("client-9"), enabled=False))
    await add_signal(uow, CHEAP, agent_id="agent-9", client_id="client-9")
    decision = await decide(uow)
    verdicts = {c.pool_id: c.verdict for c in decision.candidates}
    assert verdicts[CHEAP] is Verdict.RECENT_INTERRUPTION
    assert verdicts[OTHER] is Verdict.ELIGIBLE
    # The best remaining pool saves under 15 %, so the agent stays.
    assert (decision.action, decision.reason_code) == (Action.STAY, ReasonCode.BELOW_MIN_SAVINGS)


async def test_ep8_rebalances_count_distinct_instances_in_the_rule_risk(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    for instance in ("i-00000000000000001", "i-00000000000000001", "i-00000000000000002"):
        await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, instance_id=instance)
    # A signal without an instance id counts once for its agent's primary.
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, instance_id=None, agent_id="agent-x")
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, instance_id=None, agent_id="agent-x")
    await add_signal(uow, CHEAP, kind=SignalKind.REBALANCE, received_at=NOW - timedelta(days=2))
    decision = await decide(uow)
    cheap = next(c for c in decision.candidates if c.pool_id == CHEAP)
    # §6.8: 0.05 + 0.05 × R24 with R24 = 3 distinct instances in 24 h.
    assert cheap.risk == D("0.20")


async def test_s6_2_counters_count_non_emergency_unfailed_deliveries(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    hours_ago = [20, 18, 16]
    for h in hours_ago[:2]:
        delivered = NOW - timedelta(hours=h)
        await uow.commands.add(
            make_command(agent, status=CommandStatus.COMPLETED, delivered_at=delivered, completed_at=delivered)
        )
    # Emergency and failed switches never count towards G1 (§6.2).
    delivered = NOW - timedelta(hours=16)
    await uow.commands.add(
        make_command(
            agent,
            origin=CommandOrigin.EMERGENCY,
            status=CommandStatus.COMPLETED,
            delivered_at=delivered,
            completed_at=delivered,
        )
    )
    await uow.commands.add(
        make_command(agent, status=CommandStatus.FAILED, delivered_at=delivered, completed_at=delivered)
    )
    assert (await decide(uow)).allowed is True
    third = NOW - timedelta(hours=15)
    await uow.commands.add(make_command(agent, status=CommandStatus.COMPLETED, delivered_at=third, completed_at=third))
    decision = await decide(uow)
    assert (decision.allowed, decision.reason_code) == (False, ReasonCode.DAILY_LIMIT_REACHED)
    assert decision.retry_after == NOW - timedelta(hours=20) + timedelta(hours=24)


async def test_s6_2_last_failover_starts_the_cooldown(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, last_failover_at=NOW - timedelta(minutes=10))
    decision = await decide(uow)
    assert (decision.reason_code, decision.retry_after) == (ReasonCode.COOLDOWN, NOW + timedelta(minutes=20))


async def test_missing_baseline_and_prices_give_insufficient_price_data(uow: InMemoryUnitOfWork) -> None:
    await uow.agents.add(make_agent())
    await seed_market(uow, ondemand=None)
    assert (await decide(uow)).reason_code is ReasonCode.INSUFFICIENT_PRICE_DATA


@given(
    claims=st.fixed_dictionaries(
        {},
        optional={
            "instance_type": st.sampled_from(["t3.medium", "t3.large", "unknown"]),
            "region": st.sampled_from(["us-east-1", "eu-west-1"]),
            "az": st.sampled_from(["us-east-1c", "us-east-1a"]),
            "mode": st.sampled_from(list(Mode)),
            "pool_id": st.sampled_from([CURRENT, CHEAP]),
        },
    )
)
def test_dp5_flag_is_set_exactly_when_a_known_claim_contradicts_the_server(claims: dict[str, Any]) -> None:
    agent = make_agent()
    supplied = SuppliedPlacement(**claims)
    contradicts = any(v not in ("unknown", getattr(agent, k)) for k, v in claims.items())
    assert supplied.differs_from(agent) is contradicts
