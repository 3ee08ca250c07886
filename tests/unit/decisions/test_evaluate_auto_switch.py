"""Auto-switch evaluator (§7.2) for one agent: CM-6 re-check, command creation, DP-14, DP-15, pitfalls 14/15/19."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from spotopt.application.decisions.evaluate_auto_switch import (
    EvaluateAutoSwitch,
    EvaluateAutoSwitchCommand,
    EvaluateAutoSwitchResult,
    Outcome,
)
from spotopt.domain.agents.values import Liveness
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.decisions.decision import Action
from spotopt.domain.decisions.inputs import Motive, ReasonCode, Trigger
from spotopt.domain.decisions.policy import EvaluatorPriorities, PolicyDocument
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    ENGINE,
    NOW,
    D,
    add_signal,
    make_agent,
    make_bucket,
    make_command,
    open_episode,
    seed_market,
    wiring,
)
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

TICK = NOW


async def setup(uow: InMemoryUnitOfWork, **agent: Any) -> None:
    await uow.agents.add(make_agent(**agent))
    await seed_market(uow)


async def evaluate(
    uow: InMemoryUnitOfWork,
    *,
    at: datetime | None = None,
    policy: PolicyDocument | None = None,
    agent_id: str = "agent-1",
) -> EvaluateAutoSwitchResult:
    deps = wiring(uow, policy)
    deps["clock"] = FixedClock(at or NOW)
    sut = InScope(EvaluateAutoSwitch(engine=ENGINE, **deps).execute, uow)
    return await sut.execute(EvaluateAutoSwitchCommand(client_id=CLIENT, agent_id=AgentId(agent_id), tick=at or TICK))


async def test_allowed_savings_move_becomes_an_automatic_command_linked_to_its_decision(
    uow: InMemoryUnitOfWork,
) -> None:
    await setup(uow)
    result = await evaluate(uow)
    command, decision = result.command, result.decision
    assert result.outcome is Outcome.COMMAND_CREATED
    assert command is not None
    assert decision is not None
    assert (command.origin, command.motive, command.priority) == (CommandOrigin.AUTOMATIC, "savings", 25)
    assert (command.target_mode, command.target_pool_id) == (Mode.SPOT, CHEAP)
    assert command.expires_at == NOW + timedelta(minutes=15)
    assert command.idempotency_key == "eval:agent-1:2026-11-28T09:00:00Z"
    # DP-15: the command references the decision and the stored decision references the command.
    assert command.decision_id is not None
    assert command.decision_id == decision.decision_id
    stored = uow.store.decisions[command.decision_id]
    assert (stored.command_id, stored.trigger) == (command.command_id, Trigger.EVALUATOR)
    assert uow.store.agents["agent-1"].version == 1
    assert uow.commits == 1


async def test_pitfall14_switch_queued_notification_uses_the_catalogue_name(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    command = (await evaluate(uow)).command
    assert command is not None
    assert uow.event_types() == ["command_created"]
    (notification,) = uow.store.notifications.values()
    assert (notification.type, notification.title) == ("switch-queued", "Switch queued")
    assert notification.dedup_key == f"command_created:{command.command_id}"
    assert notification.message == (
        "web-1.example: spot t3.medium.us-east-1c → spot t3.medium.us-east-1b; expected saving $0.0031/h, "
        "risk 0.05 (t3.medium.us-east-1b is 23.7% cheaper than the current pool)."
    )


async def test_pitfall15_risk_exit_uses_the_risk_priority_50(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    await add_signal(uow, CURRENT)  # the current pool is blocklisted (§6.5 step 2)
    command = (await evaluate(uow)).command
    assert command is not None
    assert (command.motive, command.priority, command.target_pool_id) == ("risk", 50, CHEAP)


async def test_pitfall15_return_to_spot_uses_priority_25(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, mode=Mode.ONDEMAND, pool_id=None)
    result = await evaluate(uow)
    assert result.decision is not None
    assert result.command is not None
    assert result.decision.motive is Motive.RETURN_TO_SPOT
    assert (result.command.priority, result.command.target_pool_id) == (25, CHEAP)


async def test_evaluator_priorities_come_from_the_policy_document(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    policy = PolicyDocument(evaluator_priorities=EvaluatorPriorities(savings=40), policy_version="p2")
    command = (await evaluate(uow, policy=policy)).command
    assert command is not None
    assert command.priority == 40


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        ({"enabled": False}, "agent_disabled"),
        ({"auto_switch_enabled": False}, "auto_switch_disabled"),
        ({"auto_switch_enabled": False, "manual_replica_enabled": True}, "auto_switch_disabled"),
        ({"liveness": Liveness.OFFLINE}, "offline"),
    ],
)
async def test_cm6_automatic_guards_are_rechecked_under_the_lock(
    uow: InMemoryUnitOfWork, agent: dict[str, Any], reason: str
) -> None:
    await setup(uow, **agent)
    result = await evaluate(uow)
    assert (result.outcome, result.skip_reason) == (Outcome.SKIPPED, reason)
    assert uow.store.commands == {}
    assert uow.store.decisions == {}
    assert uow.commits == 0


async def test_cm6_open_episode_or_live_switch_skips_the_agent(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    await uow.episodes.add(open_episode(agent))
    assert (await evaluate(uow)).skip_reason == "emergency_in_progress"
    uow.store.episodes.clear()
    await uow.commands.add(make_command(agent, status=CommandStatus.DELIVERED, delivered_at=NOW))
    assert (await evaluate(uow)).skip_reason == "switch_in_flight"
    assert uow.store.decisions == {}


async def test_cc4_a_locked_or_vanished_agent_is_skipped(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    result = await evaluate(uow, agent_id="agent-gone")
    assert (result.outcome, result.skip_reason) == (Outcome.SKIPPED, "locked_or_gone")


async def test_cm7_the_same_tick_never_queues_twice(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    first = (await evaluate(uow)).command
    assert first is not None
    first.deliver(NOW)
    first.complete(NOW, "done")
    uow.store.agents["agent-1"].placement_since = NOW - timedelta(hours=10)
    again = await evaluate(uow)
    assert again.command is None
    assert len(uow.store.commands) == 1


async def test_dp14_evaluator_stores_a_stay_once_then_on_change_or_hourly(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, placement_since=NOW - timedelta(minutes=30))  # G4 holds the savings move
    policy = PolicyDocument(price_freshness_minutes=120)  # keeps the seeded prices usable for the whole hour
    first = await evaluate(uow, policy=policy)
    assert first.decision is not None
    assert first.stored
    assert (first.decision.action, first.decision.reason_code) == (Action.SWITCH_POOL, ReasonCode.MIN_POOL_DURATION)
    assert (await evaluate(uow, at=NOW + timedelta(minutes=5), policy=policy)).stored is False
    assert (await evaluate(uow, at=NOW + timedelta(minutes=55), policy=policy)).stored is False
    assert (await evaluate(uow, at=NOW + timedelta(minutes=60), policy=policy)).stored is True
    assert len(uow.store.decisions) == 2


async def test_dp14_changed_outcome_is_stored_at_once(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, placement_since=NOW - timedelta(minutes=30))
    await evaluate(uow)
    uow.store.pools.clear()
    changed = await evaluate(uow, at=NOW + timedelta(minutes=5))
    assert changed.decision is not None
    assert changed.stored
    assert changed.decision.reason_code is ReasonCode.NO_BETTER_POOL


async def test_dp14_request_decisions_do_not_suppress_evaluator_storage(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, placement_since=NOW - timedelta(minutes=30))
    request = (await evaluate(uow)).decision
    assert request is not None
    uow.store.decisions.clear()
    await uow.decisions.add(
        dataclasses.replace(request, trigger=Trigger.DECIDE_REQUEST, evaluated_at=NOW + timedelta(minutes=1))
    )
    assert (await evaluate(uow, at=NOW + timedelta(minutes=5))).stored is True


async def test_pitfall19_switch_limited_is_emitted_once_per_agent_per_day(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    for hours in (3, 2, 1):
        t = NOW - timedelta(hours=hours)
        await uow.commands.add(make_command(agent, status=CommandStatus.COMPLETED, delivered_at=t, completed_at=t))
    result = await evaluate(uow)
    assert result.decision is not None
    assert result.decision.reason_code is ReasonCode.DAILY_LIMIT_REACHED
    assert result.command is None
    assert uow.event_types() == ["switch_limited"]
    (notification,) = uow.store.notifications.values()
    assert (notification.type, notification.dedup_key) == ("switch-limited", "switch_limited:agent-1:2026-11-28")
    await evaluate(uow, at=NOW + timedelta(minutes=5))
    assert uow.event_types() == ["switch_limited"]
    tomorrow = NOW + timedelta(hours=15)  # next UTC day, still limited by the same deliveries
    for pool_id, price in ((CURRENT, D("0.013100")), (CHEAP, D("0.010000"))):
        uow.buckets.put(make_bucket(pool_id, price, start=tomorrow - timedelta(minutes=5)))
    await evaluate(uow, at=tomorrow)
    assert uow.event_types() == ["switch_limited", "switch_limited"]


async def test_pitfall19_risk_moves_held_by_cooldown_are_limited_too(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, last_failover_at=NOW - timedelta(minutes=10))
    await add_signal(uow, CURRENT)
    result = await evaluate(uow)
    assert result.decision is not None
    assert (result.decision.motive, result.decision.reason_code) == (Motive.RISK, ReasonCode.COOLDOWN)
    assert uow.event_types() == ["switch_limited"]


async def test_guard_held_voluntary_moves_are_not_switch_limited(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, auto_terminate_enabled=False)
    result = await evaluate(uow)
    assert result.decision is not None
    assert result.decision.reason_code is ReasonCode.AUTO_TERMINATE_OFF
    assert uow.event_types() == []


async def test_list_evaluable_agents_matches_the_evaluator_inputs(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    await uow.agents.add(make_agent(agent_id=AgentId("agent-0"), enabled=False))
    await uow.agents.add(make_agent(agent_id=AgentId("agent-2")))
    await uow.agents.add(make_agent(agent_id=AgentId("agent-3"), liveness=Liveness.OFFLINE))
    refs = await uow.agents.list_evaluable_agents(10)
    assert [r.agent_id for r in refs] == ["agent-1", "agent-2"]
    assert [r.agent_id for r in await uow.agents.list_evaluable_agents(1, after=AgentId("agent-1"))] == ["agent-2"]
