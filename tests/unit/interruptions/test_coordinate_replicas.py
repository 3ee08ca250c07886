"""The replica coordinator for one agent (domain §7.2): L9/L10, V6/V8/V10, the §3.7.2 coordinator rows, RP-6,
U1 – U5 and I12, called with a fixed clock as the job will call it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason, Liveness, TerminationReason
from spotopt.domain.commands.values import CommandOrigin
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import InstanceId
from tests.factories.agents import make_instance
from tests.factories.common import OLD
from tests.factories.replica_world import POOL_A, POOL_B, POOL_C, STANDBY, STANDBY_2, ReplicaWorld
from tests.unit.replicas.test_replica_use_cases import check


def state_of(episode: InterruptionEpisode) -> EpisodeState:
    """Read again (mypy keeps an earlier narrowing of the attribute across awaits)."""
    return episode.state


def status_of(replica: Replica) -> ReplicaStatus:
    return replica.status


def primary_of(agent: Agent) -> InstanceId | None:
    return agent.primary_instance_id


def fresh(world: ReplicaWorld, agent) -> None:  # type: ignore[no-untyped-def]
    """The primary keeps heartbeating (C-7 live primary)."""
    agent.last_heartbeat_at = world.clock.now()


# --- replica timeouts (L9, L10, RP-10) ------------------------------------------------------------------------------


async def test_domain_l9_a_launch_request_never_launched_fails_after_15_minutes() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    world.advance(minutes=14, seconds=59)
    await world.coordinate(agent)
    assert replica.status is ReplicaStatus.LAUNCHING
    world.advance(seconds=1)
    result = await world.coordinate(agent)
    assert (replica.status, replica.failure_reason) == (ReplicaStatus.FAILED, "launch_timeout")
    assert "replica_failed" in result.events
    assert world.notifications("replica-failed")


async def test_domain_l10_a_replica_syncing_for_20_minutes_fails_and_its_instance_is_kept_old() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    world.advance(minutes=20)
    await world.coordinate(agent)
    assert (replica.status, replica.failure_reason) == (ReplicaStatus.FAILED, "sync_timeout")
    assert world.instance(agent, STANDBY).kept_reason is KeptReason.TERMINATION_REQUESTED
    check(world, agent)


# --- episodes (V6, V8, V10, §3.7.2, RP-6) ---------------------------------------------------------------------------


async def test_domain_v6_rebalance_episode_clears_after_2_hours_and_its_replica_is_retired() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(agent)
    assert outcome.replica is not None
    await world.attach(agent, outcome.replica, status=ReplicaStatus.READY)
    world.advance(hours=1, minutes=59)
    await world.coordinate(agent)
    assert outcome.episode is not None
    assert outcome.episode.state is EpisodeState.AT_RISK
    world.advance(minutes=1)
    await world.coordinate(agent)
    assert state_of(outcome.episode) is EpisodeState.CLEARED
    assert outcome.replica is not None
    assert (outcome.replica.status, outcome.replica.termination_reason) == (ReplicaStatus.TERMINATED, "episode_closed")
    assert world.notifications("episode-cleared")


async def test_domain_3_6_v6_in_manual_mode_the_emergency_replica_becomes_the_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(agent)
    assert outcome.replica is not None
    await world.attach(agent, outcome.replica, status=ReplicaStatus.READY)
    agent.auto_switch_enabled, agent.manual_replica_enabled = False, True  # M3 while the episode is open (RP-7)
    world.advance(hours=2)
    fresh(world, agent)
    await world.coordinate(agent)
    replica = outcome.replica
    assert replica is not None
    assert (replica.status, replica.kind, replica.episode_id) == (
        ReplicaStatus.READY,
        ReplicaKind.MANUAL,
        None,
    )
    assert len(world.replicas(agent)) == 1  # no churn: upkeep sees the standby


async def test_domain_3_7_2_the_coordinator_promotes_a_replica_that_became_ready() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = world.replicas(agent, live=True)[0]
    await world.attach(agent, replica)
    await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=2))
    replica.status, replica.ready_at = ReplicaStatus.READY, world.clock.now()  # as if L7 had run without L7's attempt
    replica.sync_status = replica.sync_status.SYNCED
    world.advance(seconds=10)
    result = await world.coordinate(agent)
    assert replica.status is ReplicaStatus.PROMOTED
    assert "failover_completed" in result.events
    assert world.episodes(agent)[0].failover_ms == 10_000
    check(world, agent)


async def test_rp4b_the_coordinator_promotes_degraded_30_s_before_the_deadline() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = world.replicas(agent, live=True)[0]
    await world.attach(agent, replica)
    await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=2))
    world.advance(seconds=90)
    await world.coordinate(agent)
    assert replica.status is ReplicaStatus.SYNCING
    world.advance(seconds=1)
    await world.coordinate(agent)
    assert status_of(replica) is ReplicaStatus.PROMOTED
    assert replica.degraded_promotion
    assert world.episodes(agent)[0].degraded


async def test_rp6_a_failed_episode_replica_is_replaced_at_most_twice_then_the_fallback_is_queued() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=5))
    episode = outcome.episode
    assert episode is not None
    for replacements in (1, 2):
        current = world.replicas(agent, live=True)[0]
        await world.report(agent, current, ReplicaStatus.FAILED)
        await world.coordinate(agent)
        assert episode.replacements == replacements
        assert len(world.replicas(agent, live=True)) == 1
    await world.report(agent, world.replicas(agent, live=True)[0], ReplicaStatus.FAILED)
    await world.coordinate(agent)
    assert episode.replacements == 2
    assert not world.replicas(agent, live=True)
    fallback = world.uow.store.commands[episode.fallback_command_id or ""]
    assert fallback.origin is CommandOrigin.EMERGENCY
    assert "ondemand_fallback_queued" in world.uow.event_types()


async def test_pitfall17_a_client_retired_episode_replica_counts_as_failed_for_rp6() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(agent)
    assert outcome.replica is not None
    assert outcome.episode is not None
    await world.retire(agent, outcome.replica)
    await world.coordinate(agent)
    live = world.replicas(agent, live=True)
    assert len(live) == 1
    assert live[0].episode_id == outcome.episode.episode_id
    assert outcome.episode.replacements == 1


async def test_domain_v8_i8_old_primary_is_terminated_at_the_deadline_60_s_after_it() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    deadline = world.clock.now() + timedelta(minutes=2)
    await world.imminent(agent, termination_time=deadline)
    world.advance(minutes=2, seconds=59)
    await world.coordinate(agent)
    assert agent.primary_instance_id == OLD
    world.advance(seconds=1)
    await world.coordinate(agent)
    old = world.instance(agent, OLD)
    assert (old.role, old.termination_reason, old.terminated_at, old.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.INTERRUPTED,
        deadline,
        True,
    )
    assert primary_of(agent) is None
    assert agent.liveness is Liveness.OFFLINE
    assert agent.pool_id == POOL_A
    episode = world.episodes(agent)[0]
    assert episode.state is EpisodeState.TERMINATING
    assert episode.late
    check(world, agent)


async def test_pitfall20_domain_v8_after_v14_skips_the_instance_effects() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    await world.emergency(agent)
    await world.terminate(agent, OLD)  # T-1 → V14, terminated(reported)
    world.advance(minutes=2)
    await world.coordinate(agent)
    old = world.instance(agent, OLD)
    assert old.termination_reason is TerminationReason.REPORTED


async def test_domain_v10_episode_is_lost_15_minutes_after_the_deadline() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=2))
    assert outcome.replica is not None
    await world.attach(agent, outcome.replica)  # still syncing at the end (L10 needs 20 min)
    world.advance(minutes=17)
    await world.coordinate(agent)
    assert outcome.episode is not None
    assert outcome.episode.state is EpisodeState.LOST
    assert outcome.replica is not None
    assert outcome.replica.status is ReplicaStatus.TERMINATED
    assert world.notifications("failover-failed")
    assert world.instance(agent, OLD).termination_reason is TerminationReason.INTERRUPTED


# --- manual-replica upkeep (U1 – U5) --------------------------------------------------------------------------------


async def test_u1_manual_mode_without_a_standby_creates_one_launch_request_and_never_churns() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    await world.coordinate(agent)
    live = world.replicas(agent, live=True)
    assert len(live) == 1
    assert (live[0].kind, live[0].created_by, live[0].pool_id) == (
        ReplicaKind.MANUAL,
        "coordinator",
        POOL_B,
    )
    for _ in range(3):
        world.advance(seconds=10)
        fresh(world, agent)
        await world.coordinate(agent)
    assert len(world.replicas(agent)) == 1


async def test_u1_upkeep_pauses_for_a_disabled_agent_a_dead_primary_and_a_terminating_episode() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    agent.enabled = False
    await world.coordinate(agent)
    agent.enabled = True
    world.advance(minutes=3)  # no heartbeat for 3 min: the primary is not live (C-7)
    await world.coordinate(agent)
    assert not world.replicas(agent)


async def test_u2_several_free_standbys_keep_the_most_promotable_one() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    ready = await world.ready_standby(agent)
    extra = (
        await world.supply.launch_request(
            agent, await _pool(world, agent, POOL_C), ReplicaKind.MANUAL, "x", world.clock.now()
        )
    )[0]
    fresh(world, agent)
    await world.coordinate(agent)
    assert ready.status is ReplicaStatus.READY
    assert (extra.status, extra.termination_reason) == (ReplicaStatus.TERMINATED, "extra")


async def test_u3_a_standby_in_the_primary_pool_is_retired_and_replaced_on_the_next_tick() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    agent.pool_id = standby.pool_id  # as if the primary had moved into the standby's pool
    await world.coordinate(agent)
    assert standby.termination_reason == "pool_conflict"
    assert not world.replicas(agent, live=True)
    world.advance(seconds=10)
    fresh(world, agent)
    await world.coordinate(agent)
    assert len(world.replicas(agent, live=True)) == 1


async def test_u4_failed_standbys_back_off_1_then_2_minutes_and_ready_resets() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    await world.coordinate(agent)
    await world.report(agent, world.replicas(agent, live=True)[0], ReplicaStatus.FAILED)
    world.advance(seconds=59)
    fresh(world, agent)
    await world.coordinate(agent)
    assert not world.replicas(agent, live=True)
    world.advance(seconds=1)
    fresh(world, agent)
    await world.coordinate(agent)
    second = world.replicas(agent, live=True)[0]
    await world.report(agent, second, ReplicaStatus.FAILED)
    world.advance(minutes=1)
    fresh(world, agent)
    await world.coordinate(agent)
    assert not world.replicas(agent, live=True)  # two failures: 2 minutes
    world.advance(minutes=1)
    fresh(world, agent)
    await world.coordinate(agent)
    third = world.replicas(agent, live=True)[0]
    await world.attach(agent, third, STANDBY_2, status=ReplicaStatus.READY)
    await world.retire(agent, third)
    fresh(world, agent)
    await world.coordinate(agent)
    assert len(world.replicas(agent, live=True)) == 1  # a standby reached ready: no back-off


async def test_u5_after_a_promotion_exactly_one_new_standby_is_created() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    world.advance(minutes=5)  # the primary is no longer live: no I4 demotion
    await world.promote(agent, standby)
    fresh(world, agent)
    await world.coordinate(agent)
    await world.coordinate(agent)
    live = world.replicas(agent, live=True)
    assert len(live) == 1
    assert live[0].pool_id != agent.pool_id
    check(world, agent)


async def test_u5_no_new_standby_when_i4_made_the_old_primary_the_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    fresh(world, agent)
    await world.promote(agent, standby)
    await world.coordinate(agent)
    live = world.replicas(agent, live=True)
    assert [r.instance_id for r in live] == [OLD]


async def test_u1_no_pool_notifies_once_a_day_without_repeating_the_event() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    agent.auto_switch_enabled, agent.manual_replica_enabled = False, True
    for _ in range(3):
        fresh(world, agent)
        await world.coordinate(agent)
        world.advance(seconds=10)
    assert len(world.notifications("no-standby-pool")) == 1
    assert world.uow.event_types().count("no_standby_pool") == 1


async def test_rp7_upkeep_never_retires_a_replica_serving_an_open_episode() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    await world.emergency(agent)  # the standby serves the episode
    extra = (
        await world.supply.launch_request(
            agent, await _pool(world, agent, POOL_C), ReplicaKind.MANUAL, "x", world.clock.now()
        )
    )[0]
    fresh(world, agent)
    await world.coordinate(agent)
    assert standby.status is ReplicaStatus.READY
    assert extra.status is ReplicaStatus.LAUNCHING


# --- I12 and the job's input query ----------------------------------------------------------------------------------


async def test_domain_i12_instances_awaiting_termination_are_terminated_when_overdue() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    now = world.clock.now()
    switch = make_instance(agent.agent_id, agent.client_id, instance_id=STANDBY, role=InstanceRole.KEPT_OLD)
    switch.keep_old(KeptReason.AWAITING_TERMINATION, now, expected_at=now, cause=ExpectedCause.SWITCH)
    interrupted = make_instance(agent.agent_id, agent.client_id, instance_id=STANDBY_2, role=InstanceRole.KEPT_OLD)
    interrupted.keep_old(KeptReason.AWAITING_TERMINATION, now, expected_at=now, cause=ExpectedCause.INTERRUPTION)
    for instance in (switch, interrupted):
        instance.last_seen_at = now - timedelta(minutes=1)
        await world.uow.instances.add(instance)
        await world.placement.ledger.open(instance, now, now)
    world.advance(seconds=60)
    await world.coordinate(agent)
    assert (interrupted.role, interrupted.termination_reason, interrupted.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.INTERRUPTED,
        True,
    )
    assert switch.role is InstanceRole.KEPT_OLD
    world.advance(minutes=14)
    await world.coordinate(agent)
    assert (switch.role, switch.termination_reason, switch.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.PRESUMED_GONE,
        False,
    )
    assert switch.terminated_at == now


async def test_the_coordinator_visits_agents_that_need_it_by_agent_id() -> None:
    world = ReplicaWorld()
    manual = await world.agent(manual=True)
    idle = await world.registered(logical_agent_id="idle", instance_id="i-0bbbbbbbbbbbbbbbb")
    episode_agent = await world.registered(logical_agent_id="risky", instance_id="i-0cccccccccccccccc")
    await world.emergency(episode_agent, instance_id="i-0cccccccccccccccc")
    refs = await world.uow.agents.agents_needing_coordination(10)
    ids = [r.agent_id for r in refs]
    assert set(ids) == {manual.agent_id, episode_agent.agent_id}
    assert idle.agent_id not in ids
    assert ids == sorted(ids)
    after = await world.uow.agents.agents_needing_coordination(10, after=ids[0])
    assert [r.agent_id for r in after] == ids[1:]


async def _pool(world: ReplicaWorld, agent, pool_id: str):  # type: ignore[no-untyped-def]
    candidates = await world.supply.pools.candidates(agent.instance_type, agent.region, world.clock.now())
    return next(c for c in candidates if c.pool_id == pool_id)
