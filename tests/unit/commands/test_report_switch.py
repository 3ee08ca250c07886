"""A7 switch reports through the use case (domain §2.12 S-1 … S-5, §2.6 SW-1 … SW-4, §5.2, IN-4, IN-8, pitfall 2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.commands.report_switch import ReportSwitchResult
from spotopt.application.errors import ConflictError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import ExpectedCause, InstanceOrigin, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.switch import SwitchTiming
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource
from spotopt.domain.pricing.market import OnDemandPrice
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import InstanceId
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_facts, make_heartbeat, make_instance, make_register, make_sighting
from tests.factories.commands import make_switch_report
from tests.factories.common import NEW, NEW_POOL, OLD, OLD_POOL, T0, THIRD
from tests.factories.replicas import make_episode, make_replica
from tests.factories.world import AgentWorld, assert_ledger_consistent, assert_one_primary, ledger_history


def check(world: AgentWorld, agent: Agent) -> None:
    """AG-3/IN-2/IN-4 and IN-8 after every use case."""
    assert_one_primary(world, agent)
    assert_ledger_consistent(world)


async def delivered(world: AgentWorld, agent: Agent, **overrides: object) -> AgentCommand:
    command = await world.queue(agent, **overrides)
    assert await world.poll_once(agent) == command
    return command


async def report(world: AgentWorld, agent: Agent, **overrides: object) -> ReportSwitchResult:
    return await world.report_switch.execute(make_switch_report(agent, **overrides))


def timing(**offsets: float) -> SwitchTiming:
    """Timing claims as offsets in seconds from T0."""
    return SwitchTiming(**{name: T0 + timedelta(seconds=value) for name, value in offsets.items()})


# --- S-1 / SW-1 -----------------------------------------------------------------------------------------------------


async def test_s1_sw1_a_repeated_report_returns_the_recorded_switch_and_changes_nothing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=5)
    first = await report(world, agent)
    ledger = ledger_history(world, OLD) + ledger_history(world, NEW)
    events, commits = len(world.uow.store.events), world.uow.commits
    world.advance(minutes=1)
    again = await report(world, agent, timing=timing(traffic_switched_at=400))
    assert (first.created, again.created) == (True, False)
    assert again.switch == first.switch
    assert len(world.uow.store.switches) == 1
    assert ledger_history(world, OLD) + ledger_history(world, NEW) == ledger
    assert (len(world.uow.store.events), world.uow.commits) == (events, commits)


async def test_a7_new_equal_to_old_is_a_validation_error() -> None:
    world = AgentWorld()
    agent = await world.registered()
    with pytest.raises(InvalidValueError):
        await report(world, agent, new=make_facts(OLD, "us-east-1d"))


# --- S-2 correlation ------------------------------------------------------------------------------------------------


async def test_s2_the_delivered_switch_matching_the_new_instance_is_correlated_pinned_and_completed() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await delivered(world, agent)
    world.advance(minutes=3)
    result = await report(world, agent)
    assert (result.switch.command_id, result.switch.origin, result.switch.applied) == (
        command.command_id,
        "automatic",
        True,
    )
    assert command.lease_pinned
    assert (command.status, command.message) == (CommandStatus.COMPLETED, "completed by switch report")


async def test_s2_a_delivered_switch_to_another_pool_is_not_correlated() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await delivered(world, agent, target_pool_id="t3.medium.us-east-1b")
    result = await report(world, agent)
    assert (result.switch.command_id, result.switch.origin) == (None, "agent")
    assert (command.status, command.lease_pinned) == (CommandStatus.DELIVERED, False)


async def test_s2_an_explicit_command_id_of_the_agent_wins() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await delivered(world, agent, target_pool_id="t3.medium.us-east-1b")
    result = await report(world, agent, command_id=command.command_id)
    assert result.switch.command_id == command.command_id
    assert command.lease_pinned


async def test_s2_another_agents_command_id_is_ignored() -> None:
    world = AgentWorld()
    agent = await world.registered()
    other = await world.registered(logical_agent_id="batch-01", instance_id=THIRD)
    foreign = await delivered(world, other)
    result = await report(world, agent, command_id=foreign.command_id)
    assert result.switch.command_id is None
    assert not foreign.lease_pinned


@pytest.mark.parametrize(("age", "correlated"), [(timedelta(minutes=119), True), (timedelta(minutes=121), False)])
async def test_s2_an_acknowledged_switch_correlates_within_two_hours(age: timedelta, correlated: bool) -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await delivered(world, agent)
    await world.acknowledge(agent, command)
    world.advance(seconds=age.total_seconds())
    result = await report(world, agent)
    assert (result.switch.command_id == command.command_id) is correlated
    assert command.lease_pinned is correlated


# --- S-3 / S-4 ------------------------------------------------------------------------------------------------------


async def test_s3_without_r5_the_new_instance_becomes_primary_at_the_clamped_traffic_switch_time() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=10)
    command = await delivered(world, agent)
    now = world.advance(minutes=5)
    await report(world, agent, timing=timing(traffic_switched_at=12 * 60, ready_at=11 * 60))
    since = T0 + timedelta(minutes=12)
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (new.role, new.origin, new.primary_since, new.first_seen_at) == (
        InstanceRole.PRIMARY,
        InstanceOrigin.SWITCH,
        since,
        since,
    )
    assert (old.role, old.kept_reason, old.expected_cause) == (
        InstanceRole.KEPT_OLD,
        KeptReason.AWAITING_TERMINATION,
        ExpectedCause.SWITCH,
    )
    assert old.termination_expected_at == since + timedelta(seconds=command.terminate_wait_seconds)
    assert (agent.primary_instance_id, agent.pool_id, agent.placement_since) == (NEW, NEW_POOL, since)
    assert (agent.last_switch_at, agent.last_primary_change_at) == (now, now)
    assert ledger_history(world, OLD) == [(InstanceRole.PRIMARY, T0, since), (InstanceRole.KEPT_OLD, since, None)]
    assert ledger_history(world, NEW) == [(InstanceRole.PRIMARY, since, None)]
    assert world.events("switch_completed") == [NEW]
    assert len(world.notifications("switch-completed")) == 1
    check(world, agent)


async def test_s3_primary_since_falls_back_to_ready_then_to_receipt() -> None:
    world = AgentWorld()
    agent = await world.registered()
    now = world.advance(minutes=10)
    await report(world, agent, timing=timing(ready_at=60))
    assert world.instance(agent, NEW).primary_since == T0 + timedelta(seconds=60)
    agent2 = await world.registered(logical_agent_id="batch-01", instance_id=THIRD, az="us-east-1b")
    fourth = InstanceId("i-0ccccccccccccccc1")
    await report(world, agent2, old=make_facts(THIRD, "us-east-1b"), new=make_facts(fourth, "us-east-1c"))
    assert world.instance(agent2, fourth).primary_since == now


async def test_s3_primary_since_is_never_earlier_than_the_primarys_open_ledger_entry() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=10)
    await report(world, agent, timing=timing(traffic_switched_at=-1800))
    assert world.instance(agent, NEW).primary_since == T0
    assert ledger_history(world, NEW) == [(InstanceRole.PRIMARY, T0, None)]
    check(world, agent)


async def test_s3_wait_zero_keeps_the_old_instance() -> None:
    world = AgentWorld()
    agent = await world.registered()
    agent.auto_terminate_enabled = False
    await delivered(world, agent)
    await report(world, agent)
    old = world.instance(agent, OLD)
    assert (old.role, old.kept_reason, old.termination_expected_at) == (InstanceRole.KEPT_OLD, KeptReason.KEPT, None)


async def test_s3_5_2_reported_old_termination_closes_the_kept_old_entry_at_the_clamped_time() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=10)
    await delivered(world, agent)
    world.advance(minutes=10)
    await report(world, agent, timing=timing(traffic_switched_at=11 * 60, old_terminated_at=16 * 60))
    since, gone = T0 + timedelta(minutes=11), T0 + timedelta(minutes=16)
    old = world.instance(agent, OLD)
    assert (old.role, old.termination_reason, old.termination_confirmed, old.terminated_at) == (
        InstanceRole.TERMINATED,
        TerminationReason.SWITCHED_AWAY,
        True,
        gone,
    )
    assert ledger_history(world, OLD) == [(InstanceRole.PRIMARY, T0, since), (InstanceRole.KEPT_OLD, since, gone)]
    check(world, agent)


async def test_s3_a_sighting_of_the_new_instance_is_attached() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.uow.sightings.add(make_sighting(agent, first_seen_at=T0))
    world.advance(minutes=5)
    await report(world, agent, timing=timing(traffic_switched_at=240))
    assert (agent.client_id, NEW) not in world.uow.store.sightings
    assert world.instance(agent, NEW).first_seen_at == T0
    check(world, agent)


async def test_s4_pending_switches_of_the_old_primary_are_cancelled() -> None:
    world = AgentWorld()
    agent = await world.registered()
    pending = await world.queue(agent, target_pool_id="t3.medium.us-east-1b")
    await report(world, agent)
    assert (pending.status, pending.cancel_reason) == (CommandStatus.CANCELLED, "primary_changed")


async def test_s4_rp1_replicas_in_the_new_pool_are_retired() -> None:
    world = AgentWorld()
    agent = await world.registered()
    in_pool = make_replica(agent, pool_id=NEW_POOL)
    elsewhere = make_replica(agent, pool_id="t3.medium.us-east-1c", az="us-east-1c")
    for replica in (in_pool, elsewhere):
        await world.uow.replicas.add(replica)
    await report(world, agent)
    assert (in_pool.status, in_pool.termination_reason) == (ReplicaStatus.TERMINATED, "pool_conflict")
    assert elsewhere.status is ReplicaStatus.LAUNCHING


async def test_s4_an_at_risk_episode_of_the_old_primary_is_superseded() -> None:
    world = AgentWorld()
    agent = await world.registered()
    episode = make_episode(agent)
    await world.uow.episodes.add(episode)
    await report(world, agent)
    assert episode.state is EpisodeState.SUPERSEDED


async def test_s4_a_terminating_episode_is_failed_over_by_its_fallback_switch() -> None:
    world = AgentWorld()
    agent = await world.registered()
    deadline = T0 + timedelta(minutes=2)
    command = await delivered(
        world, agent, origin=CommandOrigin.EMERGENCY, target_mode=Mode.ONDEMAND, target_pool_id=None, deadline=deadline
    )
    episode = make_episode(
        agent, state=EpisodeState.TERMINATING, deadline=deadline, fallback_command_id=command.command_id
    )
    await world.uow.episodes.add(episode)
    world.advance(seconds=90)
    await report(world, agent, new=make_facts(NEW, "us-east-1d", mode="ondemand"))
    new, old = world.instance(agent, NEW), world.instance(agent, OLD)
    assert (episode.state, episode.new_instance_id) == (EpisodeState.FAILED_OVER, NEW)
    assert (new.origin, agent.mode) == (InstanceOrigin.FALLBACK, Mode.ONDEMAND)
    assert (old.kept_reason, old.expected_cause, old.termination_expected_at) == (
        KeptReason.AWAITING_TERMINATION,
        ExpectedCause.INTERRUPTION,
        deadline,
    )
    check(world, agent)


async def test_s3_after_r5_the_report_keeps_the_placement_and_closes_the_old_entry_when_reported() -> None:
    world = AgentWorld()
    agent = await world.registered()
    command = await delivered(world, agent)
    switched_at = world.advance(minutes=2)
    await world.register.execute(make_register(agent.client_id, instance_id=NEW, az="us-east-1d"))
    world.advance(minutes=6)
    result = await report(world, agent, timing=timing(traffic_switched_at=100, old_terminated_at=7 * 60))
    gone = T0 + timedelta(minutes=7)
    assert (result.switch.applied, result.switch.command_id) == (True, command.command_id)
    assert world.instance(agent, NEW).primary_since == switched_at
    assert ledger_history(world, OLD) == [
        (InstanceRole.PRIMARY, T0, switched_at),
        (InstanceRole.KEPT_OLD, switched_at, gone),
    ]
    assert command.status is CommandStatus.COMPLETED
    check(world, agent)


async def test_s3_in4_a_command_that_targeted_the_primary_demotes_the_primary_whatever_old_instance_says() -> None:
    world = AgentWorld()
    agent = await world.registered()
    kept = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=THIRD,
        role=InstanceRole.KEPT_OLD,
        kept_reason=KeptReason.KEPT,
        az="us-east-1b",
    )
    await world.uow.instances.add(kept)
    await world.placement.ledger.open(kept, T0, T0)
    command = await delivered(world, agent)
    result = await report(world, agent, old=make_facts(THIRD, "us-east-1b"), timing=timing(old_terminated_at=10))
    assert (result.switch.applied, result.switch.command_id) == (True, command.command_id)
    assert agent.primary_instance_id == NEW
    assert world.instance(agent, OLD).role is InstanceRole.KEPT_OLD
    assert kept.role is InstanceRole.KEPT_OLD
    check(world, agent)


# --- S-5 / SW-4, SW-2, SW-3 -----------------------------------------------------------------------------------------


async def test_s5_sw4_report_from_a_non_primary_is_recorded_but_moves_nothing() -> None:
    world = AgentWorld()
    agent = await world.registered()
    kept = make_instance(
        agent.agent_id,
        agent.client_id,
        instance_id=THIRD,
        role=InstanceRole.KEPT_OLD,
        kept_reason=KeptReason.KEPT,
        az="us-east-1b",
    )
    await world.uow.instances.add(kept)
    await world.placement.ledger.open(kept, T0, T0)
    result = await report(world, agent, old=make_facts(THIRD, "us-east-1b"))
    assert (result.created, result.switch.applied) == (True, False)
    assert agent.primary_instance_id == OLD
    assert (agent.client_id, NEW) not in world.uow.store.instances
    assert world.events("switch_report_not_from_primary") == [THIRD]
    assert world.events("switch_completed") == []
    check(world, agent)


async def test_sw2_switch_prices_come_from_the_server_never_from_the_report() -> None:
    world = AgentWorld()
    agent = await world.registered()
    await world.uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", Decimal("0.0416"), "catalogue", T0))
    for pool, price in ((OLD_POOL, "0.0131"), (NEW_POOL, "0.0109")):
        world.uow.buckets.put(
            CleanPriceBucket(
                pool,
                "t3.medium",
                "us-east-1",
                pool[-10:],
                T0,
                Decimal(price),
                SourceType.PRIMARY,
                Decimal("1.00"),
                DataSource.MEASURED,
                T0,
                T0,
            )
        )
    world.advance(minutes=4)
    result = await report(world, agent, reported_prices={"on_demand": 0.1, "old_spot": 0.5, "new_spot": 0.01})
    switch = result.switch
    assert (switch.old_price, switch.new_price, switch.baseline) == (
        Decimal("0.0131"),
        Decimal("0.0109"),
        Decimal("0.0416"),
    )
    assert switch.reported_prices == {"on_demand": 0.1, "old_spot": 0.5, "new_spot": 0.01}
    assert switch.hourly_delta == Decimal("0.0022")


async def test_sw2_unknown_server_prices_stay_unknown() -> None:
    world = AgentWorld()
    agent = await world.registered()
    switch = (await report(world, agent)).switch
    assert (switch.old_price, switch.new_price, switch.baseline, switch.hourly_delta) == (None, None, None, None)


async def test_sw3_times_are_clamped_into_delivery_and_receipt_with_a_command() -> None:
    world = AgentWorld()
    agent = await world.registered()
    world.advance(minutes=10)
    await delivered(world, agent)
    received = world.advance(minutes=10)
    result = await report(
        world, agent, timing=timing(initiated_at=0, launched_at=15 * 60, ready_at=99_999, traffic_switched_at=16 * 60)
    )
    t = result.switch.timing
    assert (t.initiated_at, t.launched_at, t.ready_at, t.traffic_switched_at, t.old_terminated_at) == (
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=15),
        received,
        T0 + timedelta(minutes=16),
        None,
    )


async def test_sw3_without_a_command_the_lower_bound_is_two_hours_before_receipt() -> None:
    world = AgentWorld()
    agent = await world.registered()
    received = world.advance(hours=3)
    await world.heartbeat.execute(make_heartbeat(agent))
    result = await report(world, agent, timing=timing(initiated_at=0, traffic_switched_at=2.5 * 3600))
    assert result.switch.timing.initiated_at == received - timedelta(hours=2)
    assert result.switch.timing.traffic_switched_at == T0 + timedelta(hours=2.5)


# --- Pitfall 2: R-5 first or S-3 first gives one state --------------------------------------------------------------


def final_state(world: AgentWorld, agent: Agent, command: AgentCommand) -> dict[str, object]:
    instances = {
        i.instance_id: (
            i.role,
            i.origin,
            i.kept_reason,
            i.expected_cause,
            i.termination_expected_at,
            i.termination_reason,
            i.termination_confirmed,
            i.terminated_at,
            i.primary_since,
        )
        for i in world.uow.store.instances.values()
    }
    episodes = sorted(e.state for e in world.uow.store.episodes.values())
    return {
        "instances": instances,
        "ledger": {iid: ledger_history(world, iid) for iid in instances},
        "command": (command.status, command.lease_pinned),
        "agent": (agent.primary_instance_id, agent.pool_id, agent.mode, agent.placement_since),
        "episodes": episodes,
    }


async def arrival_order(
    *, r5_first: bool, wait: bool, emergency: bool, old_terminated: bool, gaps: tuple[int, int, int, int]
) -> dict[str, object]:
    """One switch; the new process registers at the switch time ``t_s`` (R-5) or after the report (R-2)."""
    poll_after, switch_after, report_after, register_after = gaps
    world = AgentWorld()
    agent = await world.registered()
    agent.auto_terminate_enabled = wait
    world.advance(seconds=poll_after)
    mode = "ondemand" if emergency else "spot"
    if emergency:
        deadline = world.clock.now() + timedelta(seconds=120)
        command = await delivered(
            world,
            agent,
            origin=CommandOrigin.EMERGENCY,
            target_mode=Mode.ONDEMAND,
            target_pool_id=None,
            deadline=deadline,
        )
        await world.uow.episodes.add(
            make_episode(
                agent, state=EpisodeState.TERMINATING, deadline=deadline, fallback_command_id=command.command_id
            )
        )
    else:
        command = await delivered(world, agent)
    switched_at = world.advance(seconds=switch_after)
    registration = make_register(agent.client_id, instance_id=NEW, az="us-east-1d", mode=Mode(mode))
    claims = SwitchTiming(
        traffic_switched_at=switched_at,
        old_terminated_at=switched_at + timedelta(seconds=report_after) if old_terminated else None,
    )
    if r5_first:
        await world.register.execute(registration)
        check(world, agent)
    world.advance(seconds=report_after)
    await report(world, agent, new=make_facts(NEW, "us-east-1d", mode=mode), timing=claims)
    check(world, agent)
    if not r5_first:
        world.advance(seconds=register_after)
        await world.register.execute(registration)
        check(world, agent)
    return final_state(world, agent, command)


gap = st.integers(min_value=1, max_value=900)


@given(
    wait=st.booleans(),
    emergency=st.booleans(),
    old_terminated=st.booleans(),
    gaps=st.tuples(gap, gap, st.integers(min_value=0, max_value=900), gap),
)
async def test_pitfall2_property_r5_first_and_s3_first_give_the_same_roles_origin_pinning_and_ledger(
    wait: bool, emergency: bool, old_terminated: bool, gaps: tuple[int, int, int, int]
) -> None:
    options = {"wait": wait, "emergency": emergency, "old_terminated": old_terminated, "gaps": gaps}
    r5_first = await arrival_order(r5_first=True, **options)  # type: ignore[arg-type]
    s3_first = await arrival_order(r5_first=False, **options)  # type: ignore[arg-type]
    assert r5_first == s3_first


async def test_cm9_an_explicit_command_id_of_a_never_delivered_command_is_not_pinned() -> None:
    world = AgentWorld()
    agent = await world.registered()
    pending = await world.queue(agent, target_pool_id="t3.medium.us-east-1b")
    await report(world, agent, command_id=pending.command_id)
    assert (pending.status, pending.lease_pinned) == (CommandStatus.PENDING, False)


async def test_in1_a_switch_report_naming_another_agents_instance_is_refused_and_changes_nothing() -> None:
    world = AgentWorld()
    client = await world.add_client()
    first = await world.registered(client)
    second = await world.registered(client, logical_agent_id="web-2", instance_id=NEW)
    commits = world.uow.commits
    with pytest.raises(ConflictError) as refused:
        await report(world, first)  # OLD → NEW, but NEW is the other agent's primary
    assert refused.value.code == "instance_in_use"
    assert world.uow.commits == commits
    assert world.uow.store.instances[(client.client_id, NEW)].agent_id == second.agent_id
    assert first.primary_instance_id == OLD
