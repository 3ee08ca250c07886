"""A1 registration through the use case (domain §2.12 R-1 … R-8, CL-3, CL-7, AG-10, IN-4, IN-8, NT-4, pitfall 13)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from spotopt.application.errors import ConflictError
from spotopt.domain.agents.agent import Agent, Thresholds
from spotopt.domain.agents.attribution import RegistrationCase
from spotopt.domain.agents.values import (
    ExpectedCause,
    InstanceOrigin,
    InstanceRole,
    KeptReason,
    Liveness,
    TerminationReason,
)
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_heartbeat, make_instance, make_register
from tests.factories.common import NEW, NEW_POOL, OLD, OLD_POOL, T0, THIRD
from tests.factories.replicas import make_episode, make_replica
from tests.factories.world import AgentWorld, assert_ledger_consistent, assert_one_primary, ledger_history, primaries

PLACEHOLDERS = {"instance_type": "unknown", "az": "unknown", "ami_id": "unknown", "private_ip": "unknown"}


def check(world: AgentWorld, agent: Agent) -> None:
    """AG-3/IN-2/IN-4 and IN-8 after every use case."""
    assert_one_primary(world, agent)
    assert_ledger_consistent(world)


async def register_new(world: AgentWorld, agent: Agent, **overrides: object) -> RegistrationCase:
    """The process on another instance (NEW in us-east-1d unless overridden) registers under the same logical id."""
    values: dict[str, object] = {"instance_id": NEW, "az": "us-east-1d", "private_ip": "10.0.4.17"}
    values.update(overrides)
    result = await world.register.execute(make_register(agent.client_id, **values))
    assert result.config.agent == agent
    assert not result.created
    return result.case


# --- R-1 ------------------------------------------------------------------------------------------------------------


async def test_r1_new_logical_id_creates_the_agent_its_primary_and_an_open_ledger_entry() -> None:
    world = AgentWorld()
    client = await world.add_client(default_auto_switch_enabled=False, default_terminate_wait_seconds=600)
    result = await world.register.execute(make_register(client.client_id))
    agent = result.config.agent
    assert (result.created, result.case) == (True, RegistrationCase.NEW_AGENT)
    instance = world.instance(agent, OLD)
    assert (instance.role, instance.origin) == (InstanceRole.PRIMARY, InstanceOrigin.REGISTERED)
    assert (agent.primary_instance_id, agent.pool_id, agent.mode) == (OLD, OLD_POOL, Mode.SPOT)
    assert (agent.liveness, agent.last_heartbeat_at, agent.placement_since) == (Liveness.ONLINE, T0, T0)
    assert (agent.hostname, agent.agent_version, agent.private_ip, agent.public_ip) == (
        "ip-10-0-1-23",
        "4.0.0",
        "10.0.1.23",
        None,
    )
    assert ledger_history(world, OLD) == [(InstanceRole.PRIMARY, T0, None)]
    assert world.events("agent_registered") == [OLD]
    assert len(world.notifications("agent-registered")) == 1
    assert world.uow.commits == 1
    check(world, agent)


async def test_cl7_r1_new_agent_takes_the_client_defaults_and_default_thresholds() -> None:
    world = AgentWorld()
    client = await world.add_client(
        default_auto_switch_enabled=False, default_auto_terminate_enabled=False, default_terminate_wait_seconds=600
    )
    agent = await world.registered(client)
    assert (agent.auto_switch_enabled, agent.auto_terminate_enabled, agent.terminate_wait_seconds) == (
        False,
        False,
        600,
    )
    assert (agent.enabled, agent.manual_replica_enabled, agent.thresholds) == (True, False, Thresholds())


async def test_cl3_new_logical_id_beyond_max_agents_is_refused_with_the_counts() -> None:
    world = AgentWorld()
    client = await world.add_client(max_agents=1)
    agent = await world.registered(client)
    with pytest.raises(ConflictError) as refused:
        await world.register.execute(make_register(client.client_id, logical_agent_id="batch-01", instance_id=NEW))
    assert refused.value.code == "max_agents_reached"
    assert refused.value.detail == {"max_agents": 1, "agent_count": 1}
    assert len(world.uow.store.agents) == 1
    assert (client.client_id, NEW) not in world.uow.store.instances
    check(world, agent)


async def test_cl3_the_limit_applies_only_when_a_new_agent_would_be_created() -> None:
    world = AgentWorld()
    client = await world.add_client(max_agents=1)
    agent = await world.registered(client)
    again = await world.register.execute(make_register(client.client_id))
    assert again.config.agent == agent


async def test_cl3_ag2_a_deleted_agent_does_not_count_and_its_logical_id_makes_a_new_agent() -> None:
    world = AgentWorld()
    client = await world.add_client(max_agents=1)
    deleted = await world.registered(client)
    deleted.delete(T0)
    result = await world.register.execute(make_register(client.client_id, instance_id=NEW, az="us-east-1d"))
    assert result.created
    assert result.config.agent != deleted


async def test_r1_instance_of_a_deleted_agent_is_reassigned_to_the_new_agent_and_keeps_its_history() -> None:
    world = AgentWorld()
    client = await world.add_client()
    deleted = await world.registered(client)
    world.advance(hours=1)
    instance = world.instance(deleted, OLD)
    await world.placement.terminate(
        instance,
        TerminationReason.AGENT_DELETED,
        world.clock.now(),
        world.clock.now(),
        confirmed=False,
        close_reason=CloseReason.AGENT_DELETED,
    )
    deleted.delete(world.clock.now())
    world.advance(minutes=5)
    result = await world.register.execute(make_register(client.client_id))
    agent = result.config.agent
    assert (result.created, result.case) == (True, RegistrationCase.NEW_AGENT)
    assert agent != deleted
    assert (instance.agent_id, instance.role, instance.origin) == (
        agent.agent_id,
        InstanceRole.PRIMARY,
        InstanceOrigin.REGISTERED,
    )
    assert agent.primary_instance_id == OLD
    entries = world.uow.ledger.entries_of(OLD)
    assert [(e.agent_id, e.ended_at) for e in entries] == [
        (deleted.agent_id, T0 + timedelta(hours=1)),
        (agent.agent_id, None),
    ]
    check(world, agent)


async def test_ag10_logical_id_equal_to_the_instance_id_is_accepted_with_one_warning() -> None:
    world = AgentWorld()
    client = await world.add_client()
    result = await world.register.execute(make_register(client.client_id, logical_agent_id=OLD))
    assert result.created
    await world.register.execute(make_register(client.client_id, logical_agent_id=OLD))
    assert world.events("logical_id_is_instance_id") == [OLD]
    assert len(world.notifications("logical-id")) == 1


async def test_ag10_no_warning_for_a_stable_logical_id() -> None:
    world = AgentWorld()
    await world.registered()
    assert world.events("logical_id_is_instance_id") == []


# --- R-2 and R-8 ----------------------------------------------------------------------------------------------------


async def test_r2_primary_registering_again_refreshes_identity_and_heartbeat() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=10)
    result = await world.register.execute(
        make_register(agent.client_id, hostname="ip-10-0-1-99", agent_version="4.0.1", public_ip="3.4.5.6")
    )
    assert (result.created, result.case) == (False, RegistrationCase.PRIMARY)
    assert (agent.hostname, agent.agent_version, agent.public_ip) == ("ip-10-0-1-99", "4.0.1", "3.4.5.6")
    assert agent.last_heartbeat_at == world.clock.now()
    assert world.instance(agent, OLD).last_seen_at == world.clock.now()
    assert world.events("instance_facts_corrected") == []
    check(world, agent)


async def test_r2_changed_az_is_a_correction_and_the_snapshot_follows() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.register.execute(make_register(agent.client_id, az="us-east-1b"))
    instance = world.instance(agent, OLD)
    assert (instance.az, instance.pool_id) == ("us-east-1b", "t3.medium.us-east-1b")
    assert (agent.az, agent.pool_id) == ("us-east-1b", "t3.medium.us-east-1b")
    assert world.events("instance_facts_corrected") == [OLD]


async def test_r2_domain_a2_offline_agent_registering_its_primary_comes_back_online() -> None:
    world = AgentWorld()
    agent = await world.registered()
    agent.mark_offline(T0)
    world.advance(minutes=3)
    await world.register.execute(make_register(agent.client_id))
    assert agent.liveness is Liveness.ONLINE
    assert world.events("agent_online") == [""]


async def test_r8_registration_never_changes_enabled_settings_or_thresholds() -> None:
    world = AgentWorld()
    agent = await world.registered()
    custom = Thresholds(min_savings_percent=Decimal("20.00"), max_switches_per_day=1, cooldown_minutes=90)
    agent.enabled, agent.auto_switch_enabled, agent.manual_replica_enabled = False, False, True
    agent.auto_terminate_enabled, agent.terminate_wait_seconds, agent.thresholds = False, 900, custom
    for instance_id in (OLD, NEW):
        result = await world.register.execute(make_register(agent.client_id, instance_id=instance_id))
        assert result.config.agent.enabled is False
    assert (agent.enabled, agent.auto_switch_enabled, agent.manual_replica_enabled) == (False, False, True)
    assert (agent.auto_terminate_enabled, agent.terminate_wait_seconds, agent.thresholds) == (False, 900, custom)


async def test_r8_the_same_request_twice_gives_the_same_state() -> None:
    world = AgentWorld()
    agent = await world.registered()
    before = (dataclasses.asdict(agent), ledger_history(world, OLD), len(world.uow.store.events))
    result = await world.register.execute(make_register(agent.client_id))
    assert result.config.agent == agent
    assert (dataclasses.asdict(agent), ledger_history(world, OLD), len(world.uow.store.events)) == before


# --- R-3, R-4 -------------------------------------------------------------------------------------------------------


async def test_r3_standby_registering_only_updates_its_last_seen() -> None:
    world = AgentWorld()
    agent = await world.registered()
    standby = make_instance(
        agent.agent_id, agent.client_id, instance_id=NEW, role=InstanceRole.STANDBY, az="us-east-1d"
    )
    await world.uow.instances.add(standby)
    await world.uow.replicas.add(make_replica(agent, instance_id=NEW))
    await world.placement.ledger.open(standby, T0, T0)
    world.advance(minutes=2)
    assert await register_new(world, agent) is RegistrationCase.STANDBY
    assert (standby.role, standby.last_seen_at) == (InstanceRole.STANDBY, world.clock.now())
    assert (agent.primary_instance_id, agent.last_heartbeat_at) == (OLD, T0)
    check(world, agent)


async def test_r4_kept_old_instance_registering_only_updates_its_last_seen() -> None:
    world = AgentWorld()
    agent = await world.registered()
    kept = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=NEW,
        role=InstanceRole.KEPT_OLD,
        kept_reason=KeptReason.KEPT,
        az="us-east-1d",
    )
    await world.uow.instances.add(kept)
    await world.placement.ledger.open(kept, T0, T0)
    world.advance(minutes=2)
    assert await register_new(world, agent) is RegistrationCase.KEPT_OLD_OR_TERMINATED
    assert (kept.role, kept.kept_reason, kept.last_seen_at) == (
        InstanceRole.KEPT_OLD,
        KeptReason.KEPT,
        world.clock.now(),
    )
    assert agent.primary_instance_id == OLD
    check(world, agent)


async def test_r4_in6_presumed_gone_instance_seen_again_returns_to_kept_old_with_a_ledger_entry() -> None:
    world = AgentWorld()
    agent = await world.registered()
    gone = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=NEW,
        role=InstanceRole.TERMINATED,
        az="us-east-1d",
        termination_reason=TerminationReason.PRESUMED_GONE,
        terminated_at=T0,
    )
    await world.uow.instances.add(gone)
    world.advance(hours=1)
    assert await register_new(world, agent) is RegistrationCase.KEPT_OLD_OR_TERMINATED
    assert (gone.role, gone.kept_reason, gone.terminated_at) == (InstanceRole.KEPT_OLD, KeptReason.KEPT, None)
    assert world.events("instance_reappeared") == [NEW]
    assert ledger_history(world, NEW) == [(InstanceRole.KEPT_OLD, world.clock.now(), None)]
    check(world, agent)


async def test_r4_in6_confirmed_termination_is_absorbing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    gone = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=NEW,
        role=InstanceRole.TERMINATED,
        az="us-east-1d",
        termination_reason=TerminationReason.SWITCHED_AWAY,
        terminated_at=T0,
        termination_confirmed=True,
    )
    await world.uow.instances.add(gone)
    world.advance(minutes=1)
    assert await register_new(world, agent) is RegistrationCase.KEPT_OLD_OR_TERMINATED
    assert (gone.role, gone.last_seen_at) == (InstanceRole.TERMINATED, world.clock.now())
    assert world.events("instance_reappeared") == []
    check(world, agent)


# --- R-5 ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auto_terminate", "kept_reason", "cause", "expected_after"),
    [
        (True, KeptReason.AWAITING_TERMINATION, ExpectedCause.SWITCH, timedelta(seconds=300)),
        (False, KeptReason.KEPT, None, None),
    ],
)
async def test_r5_switch_target_registering_becomes_primary_and_pins_the_command(
    auto_terminate: bool, kept_reason: KeptReason, cause: ExpectedCause | None, expected_after: timedelta | None
) -> None:
    world = AgentWorld()
    agent = await world.registered()
    agent.auto_terminate_enabled = auto_terminate
    command = await world.queue(agent)
    assert await world.poll_once(agent) == command
    world.advance(minutes=2)
    now = world.clock.now()
    assert await register_new(world, agent) is RegistrationCase.SWITCH_TARGET
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (new.role, new.origin, new.primary_since) == (InstanceRole.PRIMARY, InstanceOrigin.SWITCH, now)
    assert (old.role, old.kept_reason, old.expected_cause) == (InstanceRole.KEPT_OLD, kept_reason, cause)
    assert old.termination_expected_at == (now + expected_after if expected_after else None)
    assert (agent.primary_instance_id, agent.pool_id, agent.placement_since) == (NEW, NEW_POOL, now)
    assert (agent.last_primary_change_at, agent.last_heartbeat_at) == (now, now)
    assert command.lease_pinned
    assert ledger_history(world, OLD) == [(InstanceRole.PRIMARY, T0, now), (InstanceRole.KEPT_OLD, now, None)]
    assert ledger_history(world, NEW) == [(InstanceRole.PRIMARY, now, None)]
    check(world, agent)


async def test_r5_cm9_pinned_command_is_not_handed_out_again() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await register_new(world, agent)
    world.advance(hours=1)
    assert await world.poll_once(agent) is None
    assert command.delivery_count == 1


async def test_r5_recently_acknowledged_switch_without_a_switch_record_still_matches() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command)
    world.advance(minutes=29)
    assert await register_new(world, agent) is RegistrationCase.SWITCH_TARGET
    assert agent.primary_instance_id == NEW


async def test_r5_acknowledged_switch_older_than_30_minutes_no_longer_matches() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await world.queue(agent)
    await world.poll_once(agent)
    await world.acknowledge(agent, command)
    world.advance(minutes=31)
    await world.heartbeat.execute(make_heartbeat(agent))
    assert await register_new(world, agent) is RegistrationCase.UNATTACHED
    assert agent.primary_instance_id == OLD


async def test_r5_emergency_fallback_target_is_primary_with_origin_fallback_and_the_episode_fails_over() -> None:
    world = AgentWorld()
    agent = await world.registered()
    deadline = T0 + timedelta(minutes=2)
    command = await world.queue(
        agent, origin=CommandOrigin.EMERGENCY, target_mode=Mode.ONDEMAND, target_pool_id=None, deadline=deadline
    )
    episode = make_episode(
        agent, state=EpisodeState.TERMINATING, deadline=deadline, fallback_command_id=command.command_id
    )
    await world.uow.episodes.add(episode)
    await world.poll_once(agent)
    world.advance(seconds=60)
    assert await register_new(world, agent, mode=Mode.ONDEMAND) is RegistrationCase.SWITCH_TARGET
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (new.role, new.origin, agent.mode) == (InstanceRole.PRIMARY, InstanceOrigin.FALLBACK, Mode.ONDEMAND)
    assert (old.kept_reason, old.expected_cause, old.termination_expected_at) == (
        KeptReason.AWAITING_TERMINATION,
        ExpectedCause.INTERRUPTION,
        deadline,
    )
    assert (episode.state, episode.new_instance_id) == (EpisodeState.FAILED_OVER, NEW)
    check(world, agent)


async def test_pitfall13_placeholder_facts_never_match_a_spot_switch_target() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await world.queue(agent)
    await world.poll_once(agent)
    assert await register_new(world, agent, az="unknown") is RegistrationCase.UNATTACHED
    assert agent.primary_instance_id == OLD
    assert not command.lease_pinned


# --- R-6 ------------------------------------------------------------------------------------------------------------


async def test_r6_unknown_instance_without_a_live_primary_is_adopted_and_the_old_one_presumed_gone() -> None:
    world = AgentWorld()
    agent = await world.registered()
    episode = make_episode(agent)
    await world.uow.episodes.add(episode)
    world.advance(minutes=5)
    now = world.clock.now()
    assert await register_new(world, agent) is RegistrationCase.ADOPTION
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (new.role, new.origin) == (InstanceRole.PRIMARY, InstanceOrigin.ADOPTED)
    assert (old.role, old.termination_reason, old.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.PRESUMED_GONE,
        False,
    )
    assert old.terminated_at == T0  # last seen
    assert episode.state is EpisodeState.SUPERSEDED
    assert (agent.primary_instance_id, agent.last_heartbeat_at, agent.liveness) == (NEW, now, Liveness.ONLINE)
    assert world.events("primary_adopted") == [NEW]
    assert len(world.notifications("primary-adopted")) == 1
    check(world, agent)


async def test_r6_primary_past_its_episode_deadline_is_interrupted_even_with_fresh_heartbeats() -> None:
    world = AgentWorld()
    agent = await world.registered()
    deadline = T0 + timedelta(seconds=50)
    await world.uow.episodes.add(make_episode(agent, state=EpisodeState.TERMINATING, deadline=deadline))
    world.advance(seconds=60)
    await world.heartbeat.execute(make_heartbeat(agent))
    assert await register_new(world, agent) is RegistrationCase.ADOPTION
    old = world.instance(agent, OLD)
    assert (old.termination_reason, old.termination_confirmed, old.terminated_at) == (
        TerminationReason.INTERRUPTED,
        True,
        deadline,
    )
    check(world, agent)


async def test_r6_agent_without_a_primary_adopts_the_registering_instance() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.terminate(agent)
    assert primaries(world, agent) == []
    assert await register_new(world, agent) is RegistrationCase.ADOPTION
    assert agent.primary_instance_id == NEW
    check(world, agent)


# --- R-7 ------------------------------------------------------------------------------------------------------------


async def test_r7_unknown_instance_while_the_primary_is_live_is_only_a_sighting() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(seconds=30)
    assert await register_new(world, agent) is RegistrationCase.UNATTACHED
    assert (agent.client_id, NEW) not in world.uow.store.instances
    sighting = world.uow.store.sightings[(agent.client_id, NEW)]
    assert (sighting.first_seen_at, sighting.az, sighting.private_ip) == (world.clock.now(), "us-east-1d", "10.0.4.17")
    assert (agent.primary_instance_id, agent.last_heartbeat_at) == (OLD, T0)
    assert world.events("unattached_instance") == [NEW]
    check(world, agent)


async def test_r7_nt4_unattached_warning_at_most_once_per_instance_per_day() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await register_new(world, agent)
    world.advance(minutes=1)
    await register_new(world, agent)
    await register_new(world, agent, instance_id=THIRD)
    assert world.events("unattached_instance") == [NEW, THIRD]
    world.advance(days=1)
    await world.heartbeat.execute(make_heartbeat(agent))
    await register_new(world, agent)
    assert world.events("unattached_instance") == [NEW, THIRD, NEW]
    assert len(world.notifications("unattached")) == 3
    assert world.uow.store.sightings[(agent.client_id, NEW)].first_seen_at == T0


async def test_r7_nt4_a_repeated_notification_key_creates_no_second_notification() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await register_new(world, agent)
    world.uow.store.sightings[(agent.client_id, NEW)].warned_on = None
    await register_new(world, agent)
    assert world.events("unattached_instance") == [NEW, NEW]
    assert len(world.notifications("unattached")) == 1


async def test_h4_r6_sighting_is_adopted_later_when_the_primary_stops_being_live() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await register_new(world, agent)
    world.advance(minutes=5)
    assert await register_new(world, agent) is RegistrationCase.ADOPTION
    assert (agent.client_id, NEW) not in world.uow.store.sightings
    assert world.instance(agent, NEW).first_seen_at == T0
    check(world, agent)


# --- Pitfall 13 -----------------------------------------------------------------------------------------------------


async def test_pitfall13_placeholders_from_a_metadata_failure_never_overwrite_known_facts() -> None:
    world = AgentWorld()
    agent = await world.registered()
    result = await world.register.execute(make_register(agent.client_id, **PLACEHOLDERS))
    assert result.case is RegistrationCase.PRIMARY
    instance = world.instance(agent, OLD)
    assert (instance.instance_type, instance.az, instance.pool_id, instance.ami_id) == (
        "t3.medium",
        "us-east-1a",
        OLD_POOL,
        "ami-0c55b159cbfafe1f0",
    )
    assert (agent.instance_type, agent.az, agent.pool_id, agent.private_ip) == (
        "t3.medium",
        "us-east-1a",
        OLD_POOL,
        "10.0.1.23",
    )
    assert world.events("instance_facts_corrected") == []


async def test_pitfall13_new_agent_with_placeholders_gets_no_pool_id() -> None:
    world = AgentWorld()
    client = await world.add_client()
    result = await world.register.execute(make_register(client.client_id, **PLACEHOLDERS))
    agent = result.config.agent
    instance = world.instance(agent, OLD)
    assert (instance.pool_id, agent.pool_id, instance.region) == (None, None, "us-east-1")
    assert agent.private_ip is None
    check(world, agent)


async def test_pitfall13_a_later_real_fact_fills_a_placeholder_without_a_correction() -> None:
    world = AgentWorld()
    client = await world.add_client()
    agent = (await world.register.execute(make_register(client.client_id, **PLACEHOLDERS))).config.agent
    await world.register.execute(make_register(client.client_id))
    assert (agent.pool_id, world.instance(agent, OLD).pool_id) == (OLD_POOL, OLD_POOL)
    assert world.events("instance_facts_corrected") == []
