"""The replica of a superseded episode (domain §3.5 V7, V11; §3.6 "manual replica kept"): an emergency replica is
retired unless it became the primary; in manual-replica mode a ``manual`` standby is detached and kept.
"""

from __future__ import annotations

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import RegistrationCase
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_facts, make_register
from tests.factories.commands import make_switch_report
from tests.factories.replica_world import POOL_B, STANDBY, ReplicaWorld
from tests.unit.replicas.test_replica_use_cases import check

ELSEWHERE = InstanceId("i-0c0c0c0c0c0c0c0c0")  # us-east-1c: neither the primary's pool nor a replica's


async def adopt_elsewhere(world: ReplicaWorld, agent: Agent) -> None:
    """R-6: the primary stopped heartbeating; a process on another instance registers and is adopted."""
    world.advance(minutes=5)
    command = make_register(agent.client_id, instance_id=ELSEWHERE, az="us-east-1c", private_ip="10.0.3.9")
    assert (await world.register.execute(command)).case is RegistrationCase.ADOPTION


async def test_domain_v11_adoption_retires_the_superseded_episodes_emergency_replica() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(agent)
    replica, episode = outcome.replica, outcome.episode
    assert replica is not None
    assert episode is not None
    assert (replica.kind, replica.pool_id) == (ReplicaKind.AUTOMATIC_REBALANCE, POOL_B)
    await adopt_elsewhere(world, agent)
    assert (episode.state, episode.close_reason) == (EpisodeState.SUPERSEDED, "adopted")
    assert (replica.status, replica.termination_reason) == (ReplicaStatus.TERMINATED, "episode_closed")
    assert agent.primary_instance_id == ELSEWHERE
    check(world, agent)


async def test_domain_v11_adoption_in_manual_mode_detaches_and_keeps_the_manual_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    outcome = await world.emergency(agent)
    assert outcome.replica is standby  # §3.7.1 step 2: the standby serves the episode
    assert outcome.episode is not None
    assert outcome.episode.replica_id == standby.replica_id
    await adopt_elsewhere(world, agent)
    assert world.episodes(agent)[0].state is EpisodeState.SUPERSEDED
    assert (standby.status, standby.episode_id, standby.kind) == (ReplicaStatus.READY, None, ReplicaKind.MANUAL)
    check(world, agent)


async def test_domain_v7_switch_in_manual_mode_detaches_and_keeps_the_manual_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    await world.emergency(agent)
    report = make_switch_report(agent, new=make_facts(ELSEWHERE, "us-east-1c"))
    await world.report_switch.execute(report)  # S-4: the primary moved away from the at-risk pool
    assert agent.primary_instance_id == ELSEWHERE
    assert world.episodes(agent)[0].state is EpisodeState.SUPERSEDED
    assert (standby.status, standby.episode_id) == (ReplicaStatus.READY, None)
    assert world.role(agent, STANDBY).value == "standby"
    check(world, agent)


async def test_domain_v7_switch_in_auto_mode_retires_the_emergency_replica() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    replica = (await world.emergency(agent)).replica
    assert replica is not None
    await world.report_switch.execute(make_switch_report(agent, new=make_facts(ELSEWHERE, "us-east-1c")))
    assert (replica.status, replica.termination_reason) == (ReplicaStatus.TERMINATED, "episode_closed")
    check(world, agent)
