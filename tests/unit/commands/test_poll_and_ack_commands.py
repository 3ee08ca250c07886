"""A4/A5 through the use cases: leasing and acknowledgement (CM-3, CM-4, CM-8 – CM-11, K3 – K11, W16 – W21)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spotopt.application.agents.timings import AgentTimings
from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.errors import RuleConflictError
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_instance
from tests.factories.common import NEW, OLD, OLD_POOL, T0
from tests.factories.replicas import make_replica
from tests.factories.world import AgentWorld

LEASE_WITH_WAIT = timedelta(seconds=120 + 300 + 300 + 300)
LEASE_WITHOUT_WAIT = timedelta(seconds=120 + 300)


async def world_with_agent(**agent_overrides: object) -> tuple[AgentWorld, Agent]:
    world = AgentWorld()
    agent = await world.registered()
    for name, value in agent_overrides.items():
        setattr(agent, name, value)
    return world, agent


# --- CM-3 lease, CM-4 one command in flight (W16 – W18) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("auto_terminate", "base", "lease"),
    [
        (True, 120, LEASE_WITH_WAIT),
        (False, 120, LEASE_WITHOUT_WAIT),
        (True, 60, LEASE_WITH_WAIT - timedelta(seconds=60)),
    ],
)
async def test_cm3_delivery_sets_delivered_at_the_lease_and_the_count(
    auto_terminate: bool, base: int, lease: timedelta
) -> None:
    world, agent = await world_with_agent(auto_terminate_enabled=auto_terminate)
    world.timings = AgentTimings(base_lease_seconds=base)
    command = await world.queue(agent)
    now = world.advance(seconds=15)
    assert await world.poll_once(agent) == command
    assert (command.status, command.delivered_at, command.delivery_count) == (CommandStatus.DELIVERED, now, 1)
    assert command.lease_expires_at == now + lease


async def test_cm3_create_replica_lease_covers_its_execution_budget() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent, type=CommandType.CREATE_REPLICA)
    await world.poll_once(agent)
    assert command.lease_expires_at == T0 + timedelta(seconds=120 + 600)


async def test_w18_cm4_a_poll_inside_the_lease_hands_out_nothing() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    world.advance(seconds=LEASE_WITH_WAIT.total_seconds() - 1)
    assert await world.poll_once(agent) is None
    assert command.delivery_count == 1


async def test_w18_cm4_no_other_command_is_handed_out_while_one_holds_its_lease() -> None:
    world, agent = await world_with_agent()
    await world.queue(agent, priority=50)
    other = await world.queue(agent, type=CommandType.CREATE_REPLICA, priority=25)
    await world.poll_once(agent)
    world.advance(seconds=30)
    assert await world.poll_once(agent) is None
    assert other.status is CommandStatus.PENDING


async def test_w18_domain_k5_unacknowledged_command_is_handed_out_again_after_its_lease_at_most_three_times() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    for expected in (1, 2, 3):
        assert await world.poll_once(agent) == command
        assert (command.delivery_count, command.delivered_at) == (expected, T0)
        world.advance(seconds=LEASE_WITH_WAIT.total_seconds())
    assert await world.poll_once(agent) is None
    assert command.delivery_count == 3


@pytest.mark.parametrize(
    ("first", "second", "head"),
    [
        ({"priority": 25}, {"priority": 50}, 1),
        ({"priority": 50}, {"priority": 25}, 0),
        ({"priority": 25}, {"priority": 25, "minutes": 1}, 0),
    ],
)
async def test_w17_cm4_the_head_of_the_queue_goes_first(
    first: dict[str, int], second: dict[str, int], head: int
) -> None:
    world, agent = await world_with_agent()
    commands = [
        await world.queue(agent, priority=first["priority"]),
        await world.queue(
            agent,
            type=CommandType.CREATE_REPLICA,
            priority=second["priority"],
            now=T0 + timedelta(minutes=second.get("minutes", 0)),
        ),
    ]
    world.advance(minutes=2)
    assert await world.poll_once(agent) == commands[head]
    await world.acknowledge(agent, commands[head])
    assert await world.poll_once(agent) == commands[1 - head]


async def test_poll_without_commands_hands_out_nothing_and_commits_nothing() -> None:
    world, agent = await world_with_agent()
    assert await world.poll_once(agent) is None
    assert world.uow.commits == 1


async def test_ag2_poll_for_an_unknown_or_deleted_agent_is_not_found() -> None:
    world, agent = await world_with_agent()
    agent.delete(T0)
    with pytest.raises(NotFoundError):
        await world.poll_once(agent)


# --- K3 at delivery, CM-10, CM-11, enabled gate --------------------------------------------------------------------


async def test_cm10_command_created_for_a_previous_primary_is_cancelled_at_delivery_and_the_next_considered() -> None:
    world, agent = await world_with_agent()
    stale = await world.queue(agent, priority=50)
    stale.target_instance_id = NEW
    fresh = await world.queue(agent, type=CommandType.CREATE_REPLICA, priority=25)
    assert await world.poll_once(agent) == fresh
    assert (stale.status, stale.cancel_reason) == (CommandStatus.CANCELLED, "primary_changed")


async def test_domain_k3_expired_pending_command_is_cancelled_at_delivery() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    world.advance(minutes=15)
    assert await world.poll_once(agent) is None
    assert (command.status, command.cancel_reason) == (CommandStatus.CANCELLED, "expired")
    assert world.uow.commits == 2


async def test_domain_k3_cm1_target_equal_to_the_current_placement_is_cancelled_at_delivery() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    command.target_pool_id = OLD_POOL
    assert await world.poll_once(agent) is None
    assert (command.status, command.cancel_reason) == (CommandStatus.CANCELLED, "already_in_target")


async def test_domain_k4_disabled_agent_gets_no_switch_but_an_emergency_fallback() -> None:
    world, agent = await world_with_agent(enabled=False)
    switch = await world.queue(agent, priority=50)
    assert await world.poll_once(agent) is None
    fallback = await world.queue(
        agent,
        origin=CommandOrigin.EMERGENCY,
        target_mode=Mode.ONDEMAND,
        target_pool_id=None,
        deadline=T0 + timedelta(minutes=2),
    )
    assert await world.poll_once(agent) == fallback
    assert switch.status is CommandStatus.PENDING


async def test_cm11_poll_from_a_standby_address_gets_no_switch() -> None:
    world, agent = await world_with_agent()
    standby = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=NEW,
        role=InstanceRole.STANDBY,
        az="us-east-1d",
        private_ip="10.0.4.17",
    )
    await world.uow.instances.add(standby)
    await world.uow.replicas.add(make_replica(agent, instance_id=NEW))
    command = await world.queue(agent)
    assert await world.poll_once(agent, source="10.0.4.17") is None
    assert command.status is CommandStatus.PENDING
    assert await world.poll_once(agent, source="10.0.1.23") == command


async def test_cm11_poll_from_an_unknown_address_is_served() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    assert await world.poll_once(agent, source="203.0.113.9") == command


# --- A5 acknowledgement (W19 – W21) --------------------------------------------------------------------------------


async def test_domain_k7_success_ack_completes_the_delivered_command() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    now = world.advance(minutes=6)
    acked = await world.acknowledge(agent, command)
    assert acked == command
    assert (command.status, command.acked_at, command.completed_at, command.success) == (
        CommandStatus.COMPLETED,
        now,
        now,
        True,
    )
    assert command.message == "Switch completed"
    assert agent.primary_instance_id == OLD  # K7: placement moves only through R-5/S-3


async def test_domain_k8_failure_ack_fails_the_command_with_an_event_and_a_notification() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command, success=False)
    assert (command.status, command.success, command.message) == (CommandStatus.FAILED, False, "Switch failed")
    assert [e.type for e in world.uow.store.events][-1] == "switch_failed"
    assert len(world.notifications("switch-failed")) == 1


@pytest.mark.parametrize("success", [True, False])
async def test_cm8_domain_k10_a_repeated_ack_changes_nothing(success: bool) -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command, success=success)
    recorded = (command.status, command.acked_at, command.completed_at)
    commits, events = world.uow.commits, len(world.uow.store.events)
    world.advance(minutes=1)
    assert (await world.acknowledge(agent, command, success=success)).status is recorded[0]
    assert (command.status, command.acked_at, command.completed_at) == recorded
    assert (world.uow.commits, len(world.uow.store.events)) == (commits, events)


async def test_cm8_a_contradicting_ack_is_ignored_and_logged() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command, success=True)
    assert (await world.acknowledge(agent, command, success=False)).status is CommandStatus.COMPLETED
    assert world.events("command_ack_conflict") == [""]


async def test_domain_k11_ack_of_a_pending_command_is_a_not_delivered_conflict() -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    with pytest.raises(RuleConflictError) as refused:
        await world.acknowledge(agent, command)
    assert refused.value.code == "not_delivered"
    assert command.status is CommandStatus.PENDING


async def test_a5_ack_of_another_agents_command_is_not_found() -> None:
    world, agent = await world_with_agent()
    other = await world.registered(logical_agent_id="batch-01", instance_id=NEW, az="us-east-1d")
    command = await world.queue(other)
    await world.poll_once(other)
    with pytest.raises(NotFoundError):
        await world.acknowledge(agent, command)


@pytest.mark.parametrize("success", [True, False])
async def test_w19_an_acknowledged_command_is_never_handed_out_again(success: bool) -> None:
    world, agent = await world_with_agent()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command, success=success)
    for _ in range(4):
        world.advance(seconds=LEASE_WITH_WAIT.total_seconds())
        assert await world.poll_once(agent) is None
    assert command.delivery_count == 1


async def test_w19_after_the_ack_the_next_command_is_served_at_once() -> None:
    world, agent = await world_with_agent()
    first = await world.queue(agent, priority=50)
    second = await world.queue(agent, type=CommandType.CREATE_REPLICA, target_pool_id="t3.medium.us-east-1c")
    await world.poll_once(agent)
    await world.acknowledge(agent, first)
    assert await world.poll_once(agent) == second
