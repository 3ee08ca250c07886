"""R8, R9 and A10 through their use cases: the §3.5 answer tables (pitfall 4), EP-2 … EP-8, V1 … V14, §3.7.1,
§3.7.2, §3.7.3 on the emergency path, and agent v4's W20, W33, W36 – W38.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.errors import LockContentionError, NotFoundError
from spotopt.application.replicas.supply import PoolHints
from spotopt.domain.agents.values import ExpectedCause, InstanceRole, KeptReason, TerminationReason
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.emergency import Action
from spotopt.domain.interruptions.values import AttributedRole, EpisodeState, SignalKind
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.http.interruptions.answers import r8_answer, r9_answer
from tests.factories.common import OLD
from tests.factories.replica_world import (
    POOL_A,
    POOL_B,
    POOL_C,
    POOL_D,
    STANDBY,
    UNKNOWN,
    ReplicaWorld,
    make_notice_signal,
)
from tests.unit.replicas.test_replica_use_cases import check


async def launched(world: ReplicaWorld, agent, *, ready: bool = True):  # type: ignore[no-untyped-def]
    """The episode's launch request launched by the agent (R5), and ready (R6) unless told otherwise."""
    replica = world.replicas(agent, live=True)[0]
    await world.attach(agent, replica)
    if ready:
        await world.report(agent, replica, ReplicaStatus.READY)
    return replica


# --- rebalance: V1, V2, V5, §3.7.1 ----------------------------------------------------------------------------------


async def test_domain_v1_rebalance_opens_at_risk_and_creates_a_launch_request_in_the_safest_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    pending = await world.queue(agent)
    outcome = await world.emergency(agent)
    episode, replica = outcome.episode, outcome.replica
    assert episode is not None
    assert replica is not None
    assert (episode.state, episode.first_rebalance_at, episode.instance_id) == (
        EpisodeState.AT_RISK,
        world.clock.now(),
        OLD,
    )
    assert (replica.kind, replica.status, replica.pool_id, replica.created_by) == (
        ReplicaKind.AUTOMATIC_REBALANCE,
        ReplicaStatus.LAUNCHING,
        POOL_B,  # all pools equally safe: the cheapest
        "system",
    )
    assert replica.episode_id == episode.episode_id
    assert episode.replica_id == replica.replica_id
    assert (outcome.action, r8_answer(outcome).status, outcome.created) == (Action.STANDBY_PREPARING, 201, True)
    assert pending.cancel_reason == "emergency_in_progress"
    assert world.notifications("rebalance")
    assert episode.response_ms == 0
    check(world, agent)


async def test_rp6_domain_v2_a_second_rebalance_returns_the_same_replica_and_refreshes_the_episode() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    first = await world.emergency(agent)
    world.advance(minutes=5)
    again = await world.emergency(agent)
    assert again.replica is first.replica
    assert (again.created, r8_answer(again).status) == (False, 200)
    assert again.episode is first.episode
    assert again.episode is not None
    assert again.episode.last_rebalance_at == world.clock.now()
    assert len(world.replicas(agent)) == 1


async def test_w35_a10_after_r8_answers_the_episode_state() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    created = await world.emergency(agent)
    outcome = await world.rebalance(agent)
    assert (outcome.action, outcome.attributed_role, outcome.replica) == (
        Action.STANDBY_PREPARING,
        AttributedRole.PRIMARY,
        created.replica,
    )
    await launched(world, agent)
    assert (await world.rebalance(agent)).action is Action.STANDBY_READY


async def test_ep3_dp7_emergency_selection_avoids_a_blocklisted_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.uow.signals.add(make_notice_signal(POOL_B, world.clock.now() - timedelta(hours=1)))
    outcome = await world.emergency(agent)
    assert outcome.replica is not None
    assert outcome.replica.pool_id == POOL_D


async def test_domain_3_7_1_request_hints_exclude_prefer_and_name_pools() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(
        agent, hints=PoolHints(exclude_zones=("us-east-1b",), preferred_zones=("us-east-1c",))
    )
    assert outcome.replica is not None
    assert outcome.replica.pool_id == POOL_C
    other = ReplicaWorld()
    agent2 = await other.agent()
    named = await other.emergency(agent2, hints=PoolHints(preferred_pool_id=POOL_D))
    assert named.replica is not None
    assert named.replica.pool_id == POOL_D


async def test_domain_3_7_1_no_pool_answers_no_alternative_pool_and_keeps_the_episode_open() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    outcome = await world.emergency(agent)
    assert (outcome.action, r8_answer(outcome).status, r8_answer(outcome).code) == (
        Action.NO_ALTERNATIVE_POOL,
        409,
        "no_replica",
    )
    assert outcome.episode is not None
    assert outcome.episode.state is EpisodeState.AT_RISK
    assert (await world.rebalance(agent)).action is Action.NO_ALTERNATIVE_POOL
    assert "No alternative pool" in world.notifications("rebalance")[0].message


async def test_domain_v5_pitfall16_rebalance_during_terminating_stores_the_signal_and_answers_the_replica_status() -> (
    None
):
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = await launched(world, agent, ready=False)
    await world.notice(agent, termination_time=world.clock.now() + timedelta(minutes=2))
    signals = len(world.uow.store.signals)
    outcome = await world.rebalance(agent)
    assert outcome.action is Action.STANDBY_PREPARING
    assert outcome.replica is replica
    assert outcome.episode is not None
    assert outcome.episode.state is EpisodeState.TERMINATING
    assert len(world.uow.store.signals) == signals + 1
    assert len(world.replicas(agent)) == 1


# --- EP-2, EP-7, EP-8 -----------------------------------------------------------------------------------------------


async def test_ep2_every_signal_is_stored_with_its_episode() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    await world.rebalance(agent)
    await world.imminent(agent)
    stored = world.uow.store.signals
    assert [s.kind for s in stored] == [SignalKind.REBALANCE, SignalKind.REBALANCE, SignalKind.TERMINATION]
    assert len({s.episode_id for s in stored}) == 1
    assert stored[0].episode_id is not None
    assert all(s.pool_id == POOL_A and s.attributed_role is AttributedRole.PRIMARY for s in stored)  # EP-8


async def test_ep2_a_failing_transaction_still_keeps_the_signal() -> None:
    world = ReplicaWorld()
    agent = await world.agent()

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    world.uow.episodes.add = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await world.emergency(agent)
    assert world.uow.rollbacks == 1
    assert world.uow.store.signals[-1].kind is SignalKind.REBALANCE


@pytest.mark.parametrize("route", ["r8", "r9", "a10"])
async def test_ep2_each_signal_use_case_commits_the_signal_alone_when_its_transaction_fails(route: str) -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    commits = world.uow.commits

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    world.uow.episodes.add = broken  # type: ignore[method-assign]
    call = {"r8": world.emergency, "r9": world.imminent, "a10": world.rebalance}[route]
    with pytest.raises(RuntimeError, match="boom"):
        await call(agent)

    assert (world.uow.rollbacks, world.uow.commits) == (1, commits + 1)  # the second, documented transaction
    kept = world.uow.store.signals[-1]
    assert (kept.agent_id, kept.episode_id) == (agent.agent_id, None)


async def test_cc5_lock_contention_is_left_to_the_retry_rule_without_keeping_the_signal_alone() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    commits, signals = world.uow.commits, len(world.uow.store.signals)

    async def contended(*_: object, **__: object) -> None:
        raise LockContentionError

    world.uow.episodes.add = contended  # type: ignore[method-assign]
    with pytest.raises(LockContentionError):
        await world.imminent(agent)

    assert (world.uow.rollbacks, world.uow.commits) == (0, commits)
    assert len(world.uow.store.signals) == signals  # the re-run stores it, once


async def test_ep7_signal_naming_no_instance_is_attributed_to_the_primary() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.emergency(agent, instance_id=None)
    assert outcome.attributed_role is AttributedRole.PRIMARY
    assert outcome.episode is not None
    assert world.uow.store.signals[0].instance_id is None


async def test_ep7_unknown_instance_is_stored_as_unknown_and_changes_nothing() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.notice(agent, instance_id=UNKNOWN)
    assert (outcome.attributed_role, r8_answer(outcome).status, r8_answer(outcome).code) == (
        AttributedRole.UNKNOWN,
        409,
        "not_primary",
    )
    assert not world.episodes(agent)
    assert world.uow.store.signals[0].attributed_role is AttributedRole.UNKNOWN
    assert (await world.rebalance(agent, instance_id=UNKNOWN)).action is Action.NONE


async def test_ep7_domain_l10_i10_notice_on_a_standby_fails_its_replica_as_interrupted() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    deadline = world.clock.now() + timedelta(seconds=90)
    outcome = await world.imminent(agent, instance_id=STANDBY, termination_time=deadline)
    assert (outcome.attributed_role, r9_answer(outcome).status) == (AttributedRole.STANDBY, 409)
    instance = world.instance(agent, STANDBY)
    assert (replica.status, replica.failure_reason) == (ReplicaStatus.FAILED, "interrupted")
    assert (instance.role, instance.kept_reason, instance.termination_expected_at, instance.expected_cause) == (
        InstanceRole.KEPT_OLD,
        KeptReason.AWAITING_TERMINATION,
        deadline,
        ExpectedCause.INTERRUPTION,
    )
    assert not world.episodes(agent)
    check(world, agent)


async def test_ep7_a_rebalance_on_a_standby_is_only_stored() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    outcome = await world.rebalance(agent, instance_id=STANDBY)
    assert (outcome.action, outcome.episode, replica.status) == (Action.NONE, None, ReplicaStatus.READY)


# --- termination notices: V3, V4, EP-4, EP-6, §3.7.2 ----------------------------------------------------------------


async def test_w33_w36_w38_notice_promotes_the_ready_replica_and_r9_replays_the_same_failover() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    first = await world.emergency(agent)
    replica = await launched(world, agent)
    world.advance(minutes=10)
    deadline = world.clock.now() + timedelta(minutes=2)
    notice = await world.notice(agent, termination_time=deadline)
    assert (notice.action, r8_answer(notice).status, notice.created, notice.replica) == (
        Action.REPLICA_PROMOTED,
        200,
        False,
        first.replica,
    )
    episode = notice.episode
    assert episode is not None
    assert (episode.state, episode.failover_ms, episode.new_instance_id) == (
        EpisodeState.FAILED_OVER,
        0,
        STANDBY,
    )
    assert agent.primary_instance_id == STANDBY
    assert agent.last_failover_at == world.clock.now()
    old = world.instance(agent, OLD)
    assert (old.role, old.kept_reason, old.termination_expected_at) == (
        InstanceRole.KEPT_OLD,
        KeptReason.AWAITING_TERMINATION,
        deadline,
    )  # I5
    world.advance(seconds=1)
    replay = await world.imminent(agent, termination_time=deadline)
    assert (r9_answer(replay).status, r9_answer(replay).success, replay.replayed) == (200, True, True)
    assert replay.promotion is not None
    assert replay.promotion.new_instance_id == STANDBY
    assert replay.episode is episode
    assert replica.status is ReplicaStatus.PROMOTED
    assert len([r for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED]) == 1
    assert world.notifications("failover-completed")
    assert world.notifications("termination-notice")
    check(world, agent)


async def test_ep4_repeated_notices_never_promote_twice_and_answer_identically() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    await launched(world, agent)
    answers = []
    for _ in range(5):
        outcome = await world.imminent(agent)
        answers.append(
            (r9_answer(outcome).status, outcome.action, outcome.episode.episode_id if outcome.episode else None)
        )
        world.advance(seconds=1)
    assert len(set(answers)) == 1
    assert answers[0][:2] == (200, Action.REPLICA_PROMOTED)
    assert sum(1 for e in world.uow.store.events if e.type == "failover_completed") == 1


async def test_w20_w37_notice_without_replica_queues_the_on_demand_fallback_the_next_poll_hands_out() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    outcome = await world.imminent(agent)
    assert (outcome.action, r9_answer(outcome).status, r9_answer(outcome).success) == (
        Action.ONDEMAND_FALLBACK_QUEUED,
        202,
        False,
    )
    assert outcome.episode is not None
    assert outcome.command_id == outcome.episode.fallback_command_id
    command = await world.poll_once(agent)
    assert command is not None
    assert command.command_id == outcome.command_id
    assert (
        command.origin,
        command.target_mode,
        command.target_pool_id,
        command.priority,
        command.terminate_wait_seconds,
    ) == (
        CommandOrigin.EMERGENCY,
        Mode.ONDEMAND,
        None,
        100,
        0,
    )
    assert outcome.episode.deadline is not None
    assert command.expires_at == outcome.episode.deadline + timedelta(seconds=60)
    again = await world.notice(agent)
    assert (r8_answer(again).status, r8_answer(again).code, again.action, again.command_id) == (
        409,
        "no_replica",
        Action.ONDEMAND_FALLBACK_QUEUED,
        outcome.command_id,
    )
    assert len([c for c in world.uow.store.commands.values() if c.origin is CommandOrigin.EMERGENCY]) == 1


async def test_domain_3_7_2_step4_disabled_agent_without_replica_gets_no_action_possible() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    agent.enabled = False
    outcome = await world.imminent(agent)
    assert (outcome.action, r9_answer(outcome).status, r9_answer(outcome).code) == (
        Action.NO_ACTION_POSSIBLE,
        409,
        "no_action_possible",
    )
    assert outcome.episode is not None
    assert outcome.episode.fallback_command_id is None


async def test_domain_3_7_2_step6_syncing_replica_far_from_the_deadline_is_failover_scheduled() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = await launched(world, agent, ready=False)
    outcome = await world.imminent(agent, termination_time=world.clock.now() + timedelta(minutes=2))
    assert (outcome.action, r9_answer(outcome).status, outcome.replica) == (Action.FAILOVER_SCHEDULED, 202, replica)
    assert agent.primary_instance_id == OLD  # EP-5


async def test_rp4b_domain_3_7_2_step5_syncing_replica_under_30_s_before_the_deadline_is_promoted_degraded() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = await launched(world, agent, ready=False)
    outcome = await world.imminent(agent, termination_time=world.clock.now() + timedelta(seconds=20))
    assert (outcome.action, r9_answer(outcome).status, replica.status, replica.degraded_promotion) == (
        Action.REPLICA_PROMOTED,
        200,
        ReplicaStatus.PROMOTED,
        True,
    )
    assert outcome.episode is not None
    assert outcome.episode.degraded


async def test_domain_v3_notice_without_a_rebalance_creates_an_automatic_termination_replica() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.notice(agent)
    assert outcome.replica is not None
    assert outcome.replica.kind is ReplicaKind.AUTOMATIC_TERMINATION
    assert (outcome.action, r8_answer(outcome).status, outcome.created) == (Action.FAILOVER_SCHEDULED, 201, True)
    assert agent.interruption_count == 1


async def test_domain_v4_repeat_counts_the_interruption_once_and_a_valid_time_replaces_an_estimate() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    first = await world.notice(agent)  # no termination time: estimated (EP-6)
    episode = first.episode
    assert episode is not None
    assert episode.deadline_estimated
    assert episode.deadline == world.clock.now() + timedelta(seconds=120)
    valid = world.clock.now() + timedelta(seconds=100)
    await world.imminent(agent, termination_time=valid)
    assert (episode.deadline, episode.deadline_estimated, agent.interruption_count) == (valid, False, 1)


@pytest.mark.parametrize(
    ("offset", "estimated"),
    [(timedelta(seconds=-121), True), (timedelta(seconds=-120), False), (timedelta(minutes=10), False),
     (timedelta(minutes=10, seconds=1), True)],
)  # fmt: skip
async def test_ep6_the_reported_termination_time_is_used_only_inside_its_window(
    offset: timedelta, estimated: bool
) -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    outcome = await world.notice(agent, termination_time=world.clock.now() + offset)
    assert outcome.episode is not None
    assert outcome.episode.deadline_estimated is estimated


async def test_r9_the_preferred_replica_wins_when_it_satisfies_rp4() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)  # the manual standby serves the episode (§3.6)
    outcome = await world.imminent(agent, replica_id=standby.replica_id)
    assert outcome.promotion is not None
    assert outcome.promotion.replica is standby


async def test_domain_3_6_manual_mode_rebalance_uses_the_manual_standby_instead_of_creating_one() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    standby = await world.ready_standby(agent)
    outcome = await world.emergency(agent)
    assert (outcome.replica, outcome.created, outcome.action) == (standby, False, Action.STANDBY_READY)
    assert outcome.episode is not None
    assert standby.episode_id == outcome.episode.episode_id
    assert len(world.replicas(agent)) == 1


async def test_domain_v13_a_signal_after_a_closed_episode_opens_a_new_one() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    first = await world.emergency(agent)
    world.advance(hours=2)
    agent.last_heartbeat_at = world.clock.now()
    await world.coordinate(agent)  # V6
    assert first.episode is not None
    assert first.episode.state is EpisodeState.CLEARED
    again = await world.emergency(agent)
    assert again.episode is not None
    assert again.episode is not first.episode
    assert again.episode.state is EpisodeState.AT_RISK
    assert again.created


async def test_ag2_signals_for_an_unknown_agent_are_not_found_and_store_nothing() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    with pytest.raises(NotFoundError):
        await world.imminent(dataclasses.replace(agent, agent_id=AgentId("nope")))
    assert not world.uow.store.signals


# --- the answer matrix of §3.5 / pitfall 4, every cell through the use case -----------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    replica_state=st.sampled_from(["none", "launching", "syncing", "ready", "out_of_sync"]),
    near_deadline=st.booleans(),
    enabled=st.booleans(),
)
async def test_pitfall4_r9_answer_matrix_matches_the_domain_table(
    replica_state: str, near_deadline: bool, enabled: bool
) -> None:
    world = ReplicaWorld()
    await world.market(None if replica_state != "none" else {POOL_A: Decimal("0.0131")})
    agent = await world.registered()
    agent.enabled = enabled
    if replica_state != "none":
        await world.emergency(agent)
        replica = world.replicas(agent, live=True)[0]
        if replica_state != "launching":
            await world.attach(agent, replica)
        if replica_state in ("ready", "out_of_sync"):
            await world.report(agent, replica, ReplicaStatus.READY)
        if replica_state == "out_of_sync":
            await world.sync(agent, replica, sync_status=SyncStatus.OUT_OF_SYNC)
    lead = timedelta(seconds=20) if near_deadline else timedelta(minutes=2)
    outcome = await world.imminent(agent, termination_time=world.clock.now() + lead)
    expected = {
        "none": Action.ONDEMAND_FALLBACK_QUEUED if enabled else Action.NO_ACTION_POSSIBLE,
        "launching": Action.FAILOVER_SCHEDULED,
        "syncing": Action.REPLICA_PROMOTED if near_deadline else Action.FAILOVER_SCHEDULED,
        "ready": Action.REPLICA_PROMOTED,
        "out_of_sync": Action.FAILOVER_SCHEDULED,
    }[replica_state]
    assert outcome.action is expected
    assert r9_answer(outcome).success is (
        True if expected is Action.REPLICA_PROMOTED else None if r9_answer(outcome).status == 409 else False
    )
    promoted = [r for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED]
    assert (len(promoted) == 1) is (expected is Action.REPLICA_PROMOTED)  # EP-4: success ⇔ a committed promotion
    assert agent.primary_instance_id == (STANDBY if promoted else OLD)


async def test_late_failover_after_the_deadline_terminates_the_old_primary_as_interrupted() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    replica = await launched(world, agent, ready=False)
    deadline = world.clock.now() + timedelta(minutes=2)
    await world.imminent(agent, termination_time=deadline)
    world.advance(minutes=3)
    await world.report(agent, replica, ReplicaStatus.READY)  # L7 promotes in the same transaction
    episode = world.episodes(agent)[0]
    old = world.instance(agent, OLD)
    assert (episode.state, episode.late, replica.status) == (EpisodeState.FAILED_OVER, True, ReplicaStatus.PROMOTED)
    assert (old.role, old.termination_reason, old.terminated_at) == (
        InstanceRole.TERMINATED,
        TerminationReason.INTERRUPTED,
        deadline,
    )
    check(world, agent)


async def test_domain_v3_cancels_pending_non_emergency_commands_queued_during_the_episode() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)
    manual = await world.queue(agent, origin=CommandOrigin.MANUAL)
    await world.imminent(agent)
    assert (manual.status, manual.cancel_reason) == (CommandStatus.CANCELLED, "emergency_in_progress")
