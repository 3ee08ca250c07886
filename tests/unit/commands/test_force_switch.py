"""C16 through ForceSwitch: origin ``manual`` on the A14 queue rules (CM-1, CM-2, CM-5, CM-6, CM-7, K1, §6.6)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from spotopt.application.commands.force_switch import ForceSwitch, ForceSwitchCommand, ForceSwitchResult
from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError, SettingDisabledError, UnusableTargetError
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_instance
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    NOW,
    OTHER,
    PRIMARY,
    make_agent,
    make_command,
    open_episode,
    seed_market,
    wiring,
)
from tests.fakes.uow import InMemoryUnitOfWork, InScope


async def setup(uow: InMemoryUnitOfWork, **agent: Any) -> None:
    created = make_agent(**agent)
    await uow.agents.add(created)
    await uow.instances.add(
        make_instance(created.agent_id, CLIENT, instance_id=PRIMARY, az="us-east-1c", role=InstanceRole.PRIMARY)
    )
    await seed_market(uow)


async def force(uow: InMemoryUnitOfWork, **overrides: Any) -> ForceSwitchResult:
    values: dict[str, Any] = {"client_id": CLIENT, "instance_id": PRIMARY, "target": "pool", "pool_id": CHEAP}
    values.update(overrides)
    return await InScope(ForceSwitch(**wiring(uow)).execute, uow).execute(ForceSwitchCommand(**values))


async def test_c16_k1_manual_command_priority_75_ttl_24h_and_the_manual_switch_notification(
    uow: InMemoryUnitOfWork,
) -> None:
    await setup(uow)
    result = await force(uow, reason="client asked", idempotency_key="k")
    command = result.command
    assert result.created
    assert (command.origin, command.priority, command.status) == (CommandOrigin.MANUAL, 75, CommandStatus.PENDING)
    assert (command.target_mode, command.target_pool_id, command.target_instance_id) == (Mode.SPOT, CHEAP, PRIMARY)
    assert command.expires_at == NOW + timedelta(hours=24)
    assert command.terminate_wait_seconds == 300  # CM-5
    assert uow.event_types() == ["command_created"]
    [notification] = uow.store.notifications.values()
    assert (notification.type, notification.title) == ("manual-switch-queued", "Manual switch queued")


async def test_cm7_replay_returns_the_existing_command_with_created_false(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    first = await force(uow, idempotency_key="same")
    again = await force(uow, idempotency_key="same", target="ondemand", pool_id=None)
    assert (again.created, again.command) == (False, first.command)
    assert len(uow.store.commands) == 1


async def test_cm2_supersedes_a_pending_api_switch_and_is_refused_beside_a_delivered_one(
    uow: InMemoryUnitOfWork,
) -> None:
    await setup(uow)
    agent = uow.store.agents["agent-1"]
    pending = make_command(agent, origin=CommandOrigin.API, target_pool_id=OTHER)
    await uow.commands.add(pending)
    await uow.commit_setup()
    result = await force(uow)
    assert uow.store.commands[pending.command_id].status is CommandStatus.SUPERSEDED
    assert result.command.superseded_command_id == pending.command_id
    result.command.status = CommandStatus.DELIVERED
    await uow.commit_setup()
    with pytest.raises(RuleConflictError) as raised:
        await force(uow, target="ondemand", pool_id=None)
    assert raised.value.code == "switch_in_flight"


async def test_cm2_a_pending_emergency_fallback_outranks_a_manual_switch(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = uow.store.agents["agent-1"]
    await uow.commands.add(make_command(agent, origin=CommandOrigin.EMERGENCY, target_pool_id=None))
    await uow.commit_setup()
    with pytest.raises(RuleConflictError) as raised:
        await force(uow)
    assert (raised.value.code, raised.value.detail["priority"]) == ("switch_pending", 100)


async def test_cm6_manual_needs_enabled_but_not_auto_switch_nor_any_decision_guard(uow: InMemoryUnitOfWork) -> None:
    """§6.6: no G1-G3 for manual moves (a zero daily limit does not hold it back); manual mode allows it (§3.6)."""
    await setup(
        uow,
        auto_switch_enabled=False,
        manual_replica_enabled=True,
        thresholds=Thresholds(max_switches_per_day=0, max_switches_per_week=0),
    )
    assert (await force(uow)).created
    uow.store.agents["agent-1"].enabled = False
    await uow.commit_setup()
    with pytest.raises(SettingDisabledError) as raised:
        await force(uow, target="ondemand", pool_id=None)
    assert raised.value.detail["setting"] == "enabled"


async def test_cm6_terminating_episode_refuses_and_at_risk_allows(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    episode = open_episode(uow.store.agents["agent-1"])
    await uow.episodes.add(episode)
    await uow.commit_setup()
    assert (await force(uow)).created  # at_risk: a manual move away is allowed
    episode.state = EpisodeState.TERMINATING
    await uow.commit_setup()
    with pytest.raises(RuleConflictError) as raised:
        await force(uow, target="ondemand", pool_id=None)
    assert raised.value.code == "emergency_in_progress"


async def test_c16_spot_without_a_pool_takes_the_best_eligible_pool(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    assert (await force(uow, target="spot", pool_id=None)).command.target_pool_id == CHEAP


async def test_c16_no_eligible_pool_for_spot_is_409(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, thresholds=Thresholds(risk_threshold=Decimal(0)))  # every pool's rule risk is above 0
    with pytest.raises(RuleConflictError) as raised:
        await force(uow, target="spot", pool_id=None)
    assert raised.value.code == "no_eligible_pool"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"pool_id": "c5.large.us-east-1b"}, "pool_mismatch"),
        ({"pool_id": "t3.medium.us-west-2a"}, "pool_mismatch"),
        ({"pool_id": "t3.medium.us-east-1f"}, "pool_unavailable"),
        ({"new_instance_type": "t3.large"}, "instance_type_change_unsupported"),
    ],
)
async def test_c16_422_targets(uow: InMemoryUnitOfWork, overrides: dict[str, Any], code: str) -> None:
    await setup(uow)
    with pytest.raises(UnusableTargetError) as raised:
        await force(uow, **overrides)
    assert raised.value.code == code
    assert uow.store.commands == {}


async def test_cm1_current_pool_is_already_in_target(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    with pytest.raises(RuleConflictError) as raised:
        await force(uow, pool_id=CURRENT)
    assert raised.value.code == "already_in_target"


async def test_c16_an_instance_that_is_not_the_primary_is_409_not_primary(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = uow.store.agents["agent-1"]
    await uow.instances.add(
        make_instance(agent.agent_id, CLIENT, instance_id="i-0000000000000abcd", role=InstanceRole.KEPT_OLD)
    )
    await uow.commit_setup()
    with pytest.raises(RuleConflictError) as raised:
        await force(uow, instance_id="i-0000000000000abcd")
    assert raised.value.code == "not_primary"


async def test_cl4_unknown_or_foreign_instance_is_not_found(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    with pytest.raises(NotFoundError):
        await force(uow, client_id="client-2")
    with pytest.raises(NotFoundError):
        await force(uow, instance_id="None")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target": "pool", "pool_id": None}, "pool_id"),
        ({"target": "ondemand"}, "pool_id"),
        ({"target": "x"}, "target"),
    ],
)
async def test_c16_body_rules_are_400(uow: InMemoryUnitOfWork, overrides: dict[str, Any], field: str) -> None:
    await setup(uow)
    with pytest.raises(InvalidValueError) as raised:
        await force(uow, **overrides)
    assert raised.value.field == field
