"""A2 heartbeats through the use case (domain §2.12 H-1 … H-7, AG-8, domain A4 – A6, IN-8, NT-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import (
    ExpectedCause,
    InstanceOrigin,
    InstanceRole,
    KeptReason,
    Liveness,
    ReportedStatus,
    TerminationReason,
)
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_heartbeat, make_instance, make_register, make_sighting
from tests.factories.common import NEW, OLD, T0
from tests.factories.replicas import make_replica
from tests.factories.world import AgentWorld, assert_ledger_consistent, assert_one_primary

SHUTDOWN = {"status": "offline", "monitored_instances": []}


def check(world: AgentWorld, agent: Agent) -> None:
    """AG-3/IN-2/IN-4 and IN-8 after every use case."""
    assert_one_primary(world, agent)
    assert_ledger_consistent(world)


async def with_second_instance(world: AgentWorld, agent: Agent, role: InstanceRole) -> None:
    """NEW as a standby (with its replica) or a kept-old instance of ``agent``, with its ledger entry."""
    kept_reason = KeptReason.KEPT if role is InstanceRole.KEPT_OLD else None
    instance = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=NEW,
        role=role,
        az="us-east-1d",
        kept_reason=kept_reason,
        private_ip="10.0.4.17",
    )
    await world.uow.instances.add(instance)
    if role is InstanceRole.STANDBY:
        await world.uow.replicas.add(make_replica(agent, instance_id=NEW))
    await world.placement.ledger.open(instance, T0, T0)


# --- H-1, H-2 -------------------------------------------------------------------------------------------------------


async def test_h2_primary_heartbeat_advances_heartbeat_status_and_last_seen() -> None:
    world = AgentWorld()
    agent = await world.registered()
    now = world.advance(seconds=30)
    await world.heartbeat.execute(
        make_heartbeat(agent, status="disabled", instance_type="t3.medium", mode=Mode.SPOT, az="us-east-1a")
    )
    assert (agent.last_heartbeat_at, agent.reported_status, agent.liveness) == (
        now,
        ReportedStatus.DISABLED,
        Liveness.ONLINE,
    )
    assert world.instance(agent, OLD).last_seen_at == now
    assert world.uow.commits == 2
    check(world, agent)


async def test_h2_heartbeat_time_never_moves_backwards() -> None:
    world = AgentWorld()
    agent = await world.registered()
    ahead = T0 + timedelta(seconds=40)
    agent.last_heartbeat_at = ahead
    world.advance(seconds=10)
    await world.heartbeat.execute(make_heartbeat(agent))
    assert agent.last_heartbeat_at == ahead


async def test_h1_the_first_monitored_instance_is_named_when_instance_id_is_absent() -> None:
    world = AgentWorld()
    agent = await world.registered()
    now = world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, monitored_instances=[OLD, NEW]))
    assert (agent.last_heartbeat_at, world.instance(agent, OLD).last_seen_at) == (now, now)


async def test_h1_instance_id_wins_over_monitored_instances() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await with_second_instance(world, agent, InstanceRole.STANDBY)
    now = world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=NEW, monitored_instances=[OLD], status="offline"))
    assert (agent.last_heartbeat_at, agent.liveness) == (T0, Liveness.ONLINE)
    assert world.instance(agent, NEW).last_seen_at == now


async def test_h2_domain_a6_offline_from_the_primary_stops_the_agent_and_a5_brings_it_back() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=40)
    await world.heartbeat.execute(make_heartbeat(agent, status="offline"))
    assert (agent.liveness, agent.reported_status) == (Liveness.OFFLINE, ReportedStatus.OFFLINE)
    assert world.events("agent_stopped") == [OLD]
    assert len(world.notifications("agent-stopped")) == 1
    world.advance(minutes=5)
    await world.heartbeat.execute(make_heartbeat(agent))
    assert agent.liveness is Liveness.ONLINE
    assert world.events("agent_online") == [""]
    assert len(world.notifications("agent-back-online")) == 1


async def test_h2_domain_a4_a_repeated_online_heartbeat_emits_nothing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    events = len(world.uow.store.events)
    for _ in range(3):
        world.advance(seconds=30)
        await world.heartbeat.execute(make_heartbeat(agent))
    assert len(world.uow.store.events) == events


async def test_h2_reported_az_differing_from_the_primary_is_a_correction() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.heartbeat.execute(make_heartbeat(agent, mode=Mode.SPOT, az="us-east-1c", instance_type=None))
    assert (world.instance(agent, OLD).az, agent.pool_id) == ("us-east-1c", "t3.medium.us-east-1c")
    assert world.events("instance_facts_corrected") == [OLD]


async def test_h2_pitfall13_null_and_unknown_facts_change_nothing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.heartbeat.execute(make_heartbeat(agent, mode=Mode.UNKNOWN, az="unknown", instance_type=None))
    await world.heartbeat.execute(make_heartbeat(agent, mode=None, az=None, instance_type="unknown"))
    assert (agent.mode, agent.az, agent.pool_id) == (Mode.SPOT, "us-east-1a", "t3.medium.us-east-1a")
    assert world.events("instance_facts_corrected") == []


# --- H-3 (AG-8) -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [InstanceRole.STANDBY, InstanceRole.KEPT_OLD])
@pytest.mark.parametrize("status", ["online", "offline", "error"])
async def test_h3_ag8_standby_or_kept_old_heartbeat_only_updates_its_last_seen(role: InstanceRole, status: str) -> None:
    world = AgentWorld()
    agent = await world.registered()
    await with_second_instance(world, agent, role)
    now = world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=NEW, status=status))
    assert world.instance(agent, NEW).last_seen_at == now
    assert (agent.liveness, agent.last_heartbeat_at, agent.reported_status) == (Liveness.ONLINE, T0, None)
    assert world.events("agent_stopped") == world.events("agent_reported_error") == []
    check(world, agent)


async def test_h3_terminated_instance_heartbeat_changes_no_liveness() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.terminate(agent)
    world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=OLD, status="online"))
    assert agent.liveness is Liveness.OFFLINE
    check(world, agent)


async def test_ag8_heartbeat_naming_an_instance_unknown_to_the_agent_changes_nothing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=NEW, status="offline"))
    assert (agent.liveness, agent.last_heartbeat_at) == (Liveness.ONLINE, T0)
    assert (agent.client_id, NEW) not in world.uow.store.instances


# --- H-4 ------------------------------------------------------------------------------------------------------------


async def test_h4_sighting_heartbeat_while_the_primary_is_live_only_updates_the_sighting() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.uow.sightings.add(make_sighting(agent))
    now = world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=NEW))
    assert world.uow.store.sightings[(agent.client_id, NEW)].last_seen_at == now
    assert (agent.primary_instance_id, agent.last_heartbeat_at) == (OLD, T0)


async def test_h4_r6_sighting_heartbeat_while_the_primary_is_not_live_adopts_it() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.uow.sightings.add(make_sighting(agent))
    now = world.advance(minutes=3)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=NEW))
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (new.role, new.origin, new.pool_id) == (InstanceRole.PRIMARY, InstanceOrigin.ADOPTED, "t3.medium.us-east-1d")
    assert (old.role, old.termination_reason) == (InstanceRole.TERMINATED, TerminationReason.PRESUMED_GONE)
    assert (agent.primary_instance_id, agent.last_heartbeat_at, agent.liveness) == (NEW, now, Liveness.ONLINE)
    assert (agent.client_id, NEW) not in world.uow.store.sightings
    assert world.events("primary_adopted") == [NEW]
    check(world, agent)


# --- H-5 ------------------------------------------------------------------------------------------------------------


async def switched(world: AgentWorld, agent: Agent, *, wait: bool) -> None:
    """R-5: the switch target NEW registered while the switch command was delivered."""
    agent.auto_terminate_enabled = wait
    await world.queue(agent)
    await world.poll_once(agent)
    await world.register.execute(make_register(agent.client_id, instance_id=NEW, az="us-east-1d"))
    assert agent.primary_instance_id == NEW


async def test_h5_unnamed_shutdown_right_after_a_switch_is_ignored_for_liveness() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(hours=1)
    await switched(world, agent, wait=False)
    world.advance(minutes=29)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, **SHUTDOWN))
    assert (agent.liveness, agent.reported_status) == (Liveness.ONLINE, None)
    assert world.events("agent_stopped") == []


async def test_h5_unnamed_shutdown_while_an_old_instance_awaits_termination_is_ignored() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(hours=1)
    await switched(world, agent, wait=True)
    assert world.instance(agent, OLD).expected_cause is ExpectedCause.SWITCH
    world.advance(minutes=45)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, **SHUTDOWN))
    assert agent.liveness is Liveness.ONLINE


async def test_h5_unnamed_shutdown_long_after_a_switch_is_the_primarys() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(hours=1)
    await switched(world, agent, wait=False)
    world.advance(minutes=31)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, **SHUTDOWN))
    assert agent.liveness is Liveness.OFFLINE
    assert world.events("agent_stopped") == [NEW]


async def test_h5_unnamed_shutdown_of_a_freshly_registered_agent_is_the_primarys() -> None:
    """No primary change happened: R-1 made the first primary, so no previous primary's process can be stopping."""
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=5)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, **SHUTDOWN))
    assert agent.liveness is Liveness.OFFLINE
    assert world.events("agent_stopped") == [OLD]


async def test_h5_unnamed_online_heartbeat_counts_as_the_primarys() -> None:
    world = AgentWorld()
    agent = await world.registered()
    now = world.advance(seconds=30)
    await world.heartbeat.execute(make_heartbeat(agent, instance_id=None, status="online"))
    assert (agent.last_heartbeat_at, world.instance(agent, OLD).last_seen_at) == (now, now)


# --- H-6, H-7 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["online", "disabled", "offline", "switching", "error", None])
async def test_h6_accepted_statuses(status: str | None) -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.heartbeat.execute(make_heartbeat(agent, status=status))
    assert agent.reported_status is ReportedStatus(status or "online")


@pytest.mark.parametrize("status", ["ONLINE", "stopped", ""])
async def test_h6_any_other_status_is_a_validation_error_and_changes_nothing(status: str) -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(seconds=30)
    with pytest.raises(InvalidValueError):
        await world.heartbeat.execute(make_heartbeat(agent, status=status))
    assert (agent.last_heartbeat_at, world.uow.commits) == (T0, 1)


async def test_h6_error_status_from_the_primary_emits_agent_reported_error() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.heartbeat.execute(make_heartbeat(agent, status="error"))
    assert world.events("agent_reported_error") == [""]
    assert agent.liveness is Liveness.ONLINE


@pytest.mark.parametrize("agent_id", ["None", "unknown-agent"])
async def test_h7_heartbeat_for_an_unknown_agent_is_not_found(agent_id: str) -> None:
    world = AgentWorld()
    agent = await world.registered()
    with pytest.raises(NotFoundError):
        await world.heartbeat.execute(make_heartbeat(agent, agent_id=agent_id, instance_id=None, **SHUTDOWN))


async def test_h7_ag2_heartbeat_for_a_deleted_agent_is_not_found() -> None:
    world = AgentWorld()
    agent = await world.registered()
    agent.delete(T0)
    with pytest.raises(NotFoundError):
        await world.heartbeat.execute(make_heartbeat(agent))


async def test_cl4_heartbeat_with_another_clients_token_is_not_found() -> None:
    world = AgentWorld()
    agent = await world.registered()
    other = await world.add_client()
    with pytest.raises(NotFoundError):
        await world.heartbeat.execute(make_heartbeat(agent, client_id=other.client_id))
