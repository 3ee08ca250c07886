"""A8 / A9 through the use cases (domain §2.12 T-1, T-2; domain A8; L12; IN-8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, KeptReason, Liveness, TerminationReason
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.values import ReplicaStatus
from tests.factories.agents import make_instance
from tests.factories.common import NEW, OLD, T0, THIRD
from tests.factories.replicas import make_episode, make_replica
from tests.factories.world import AgentWorld, assert_ledger_consistent, assert_one_primary, ledger_history


def check(world: AgentWorld, agent: Agent) -> None:
    """AG-3/IN-2/IN-4 and IN-8 after every use case."""
    assert_one_primary(world, agent)
    assert_ledger_consistent(world)


async def with_instance(world: AgentWorld, agent: Agent, role: InstanceRole, instance_id: str = NEW) -> None:
    kept_reason = KeptReason.KEPT if role is InstanceRole.KEPT_OLD else None
    instance = make_instance(
        agent.agent_id, agent.client_id, instance_id=instance_id, role=role, az="us-east-1d", kept_reason=kept_reason
    )
    await world.uow.instances.add(instance)
    await world.placement.ledger.open(instance, T0, T0)


# --- T-1 ------------------------------------------------------------------------------------------------------------


async def test_t1_domain_a8_terminated_primary_leaves_the_agent_without_primary_and_offline() -> None:
    world = AgentWorld()
    agent = await world.registered()
    episode = make_episode(agent)
    await world.uow.episodes.add(episode)
    pending = await world.queue(agent)
    now = world.advance(minutes=20)
    await world.terminate(agent)
    old = world.instance(agent, OLD)
    assert (old.role, old.termination_reason, old.termination_confirmed, old.terminated_at) == (
        InstanceRole.TERMINATED,
        TerminationReason.REPORTED,
        True,
        now,
    )
    assert (agent.primary_instance_id, agent.liveness, agent.pool_id) == (
        None,
        Liveness.OFFLINE,
        "t3.medium.us-east-1a",
    )
    assert (episode.state, episode.deadline) == (EpisodeState.TERMINATING, now)
    assert (pending.status, pending.cancel_reason) == (CommandStatus.CANCELLED, "primary_changed")
    assert ledger_history(world, OLD) == [(InstanceRole.PRIMARY, T0, now)]
    check(world, agent)


async def test_t1_l12_terminated_standby_terminates_its_replica() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await with_instance(world, agent, InstanceRole.STANDBY)
    replica = make_replica(agent, instance_id=NEW, status=ReplicaStatus.SYNCING)
    await world.uow.replicas.add(replica)
    world.advance(minutes=5)
    await world.terminate(agent, NEW)
    assert world.instance(agent, NEW).role is InstanceRole.TERMINATED
    assert replica.status is ReplicaStatus.TERMINATED
    assert (agent.primary_instance_id, agent.liveness) == (OLD, Liveness.ONLINE)
    check(world, agent)


async def test_t1_an_already_terminated_instance_is_a_no_op() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.terminate(agent, OLD)
    ended = world.instance(agent, OLD).terminated_at
    world.advance(minutes=5)
    await world.terminate(agent, OLD)
    assert world.instance(agent, OLD).terminated_at == ended
    assert len(world.events("instance_terminated")) == 1
    check(world, agent)


async def test_t1_no_instance_and_no_primary_is_a_no_primary_conflict() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.terminate(agent)
    with pytest.raises(ConflictError) as refused:
        await world.terminate(agent)
    assert refused.value.code == "no_primary"


async def test_t1_instance_of_another_agent_is_not_found() -> None:
    world = AgentWorld()
    agent = await world.registered()
    other = await world.registered(logical_agent_id="batch-01", instance_id=THIRD)
    with pytest.raises(NotFoundError):
        await world.terminate(agent, THIRD)
    assert world.instance(other, THIRD).role is InstanceRole.PRIMARY


# --- T-2 ------------------------------------------------------------------------------------------------------------


async def test_t2_cleanup_naming_a_kept_old_instance_terminates_it() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await with_instance(world, agent, InstanceRole.KEPT_OLD)
    now = world.advance(minutes=30)
    await world.cleanup(agent, old_instance_id=NEW, old_instance_success=True)
    kept = world.instance(agent, NEW)
    assert (kept.role, kept.termination_reason, kept.termination_confirmed, kept.terminated_at) == (
        InstanceRole.TERMINATED,
        TerminationReason.REPORTED,
        True,
        now,
    )
    assert [r.old_instance_result for r in world.uow.store.cleanups.values()] == ["terminated"]
    check(world, agent)


async def test_t2_cleanup_reporting_failure_leaves_the_kept_old_instance() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await with_instance(world, agent, InstanceRole.KEPT_OLD)
    await world.cleanup(agent, old_instance_id=NEW, old_instance_success=False)
    assert world.instance(agent, NEW).role is InstanceRole.KEPT_OLD
    check(world, agent)


@pytest.mark.parametrize("role", [InstanceRole.PRIMARY, InstanceRole.STANDBY, None])
async def test_t2_cleanup_naming_the_primary_a_standby_or_an_unknown_instance_is_ignored(
    role: InstanceRole | None,
) -> None:
    world = AgentWorld()
    agent = await world.registered()
    named = OLD if role is InstanceRole.PRIMARY else NEW
    if role is InstanceRole.STANDBY:
        await with_instance(world, agent, role)
    await world.cleanup(agent, old_instance_id=named)
    assert [r.old_instance_result for r in world.uow.store.cleanups.values()] == ["ignored"]
    assert world.events("cleanup_report_ignored") == [named]
    assert agent.primary_instance_id == OLD
    check(world, agent)


async def test_t2_w39_cleanup_figures_are_stored_once_per_timestamp() -> None:
    world = AgentWorld()
    agent = await world.registered()
    stamp = T0 + timedelta(minutes=1)
    figures = {
        "reported_at": stamp,
        "deleted_snapshots": 1,
        "deleted_amis": 0,
        "failed_count": 1,
        "body": {"amis": {"error": "can't compare offset-naive and offset-aware datetimes"}},
    }
    await world.cleanup(agent, **figures)
    world.advance(minutes=2)
    await world.cleanup(agent, **figures)
    [record] = world.uow.store.cleanups.values()
    assert (record.reported_at, record.deleted_snapshots, record.failed_count, record.old_instance_result) == (
        stamp,
        1,
        1,
        None,
    )


async def test_t2_cleanup_for_an_unknown_agent_is_not_found() -> None:
    world = AgentWorld()
    agent = await world.registered()
    agent.delete(T0)
    with pytest.raises(NotFoundError):
        await world.cleanup(agent)
