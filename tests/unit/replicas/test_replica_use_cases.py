"""Replica routes R1 – R7 through their use cases (domain §2.4 RP-1 … RP-10, §3.3 L1 … L16, §3.7.3, I2 … I11)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from spotopt.application.errors import ConflictError, NotFoundError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, KeptReason, TerminationReason
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus, SyncStatus
from spotopt.domain.shared.errors import RuleConflictError, SettingDisabledError, UnusableTargetError
from tests.factories.agents import make_sighting
from tests.factories.common import OLD
from tests.factories.replica_world import POOL_A, POOL_B, POOL_C, POOL_D, STANDBY, STANDBY_2, ReplicaWorld
from tests.factories.replicas import make_replica
from tests.factories.world import assert_ledger_consistent, assert_one_primary


def check(world: ReplicaWorld, agent: Agent) -> None:
    """AG-3, IN-8, RP-1 (no live replica in the primary's pool), RP-3 (promoted ⇒ real id), RP-6 (one per episode)."""
    assert_one_primary(world, agent)
    assert_ledger_consistent(world)
    live = world.replicas(agent, live=True)
    assert all(r.pool_id != agent.pool_id for r in live)
    assert all(r.instance_id is not None for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED)
    episodes = [r.episode_id for r in live if r.episode_id is not None]
    assert len(episodes) == len(set(episodes))
    for replica in live:
        if replica.instance_id is not None:
            assert world.role(agent, replica.instance_id) is InstanceRole.STANDBY  # IN-3


# --- R1 register form (L2) ------------------------------------------------------------------------------------------


async def test_domain_l2_agent_launched_replica_registers_as_a_syncing_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    result = await world.create(agent, instance_id=STANDBY, pool_id=POOL_D, status=ReplicaStatus.LAUNCHING)
    replica = result.replica
    assert result.created
    assert (replica.status, replica.sync_status, replica.created_by) == (
        ReplicaStatus.SYNCING,
        SyncStatus.SYNCING,
        "agent",
    )
    assert replica.instance_id == STANDBY
    assert replica.launched_at == replica.sync_started_at == world.clock.now()
    assert replica.parent_instance_id == OLD
    assert replica.hourly_price_at_creation == Decimal("0.0112")
    assert world.role(agent, STANDBY) is InstanceRole.STANDBY  # I2
    assert "replica_created" in world.uow.event_types()
    check(world, agent)


async def test_domain_l2_register_form_repeat_returns_the_same_replica_not_created() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    first = await world.create(agent, instance_id=STANDBY, pool_id=POOL_D)
    commits = world.uow.commits
    again = await world.create(agent, instance_id=STANDBY, pool_id=POOL_D)
    assert again.replica is first.replica
    assert not again.created
    assert world.uow.commits == commits


async def test_domain_l2_ready_status_applies_l7_at_once() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent, instance_id=STANDBY, pool_id=POOL_D, status=ReplicaStatus.READY)).replica
    assert replica.status is ReplicaStatus.READY
    assert replica.ready_at is not None
    assert world.notifications("replica-ready")


async def test_rp5_register_form_in_auto_switch_mode_without_an_episode_is_not_allowed() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    with pytest.raises(ConflictError) as refused:
        await world.create(agent, instance_id=STANDBY, pool_id=POOL_D)
    assert refused.value.code == "replica_not_allowed"
    assert refused.value.detail["reason"] == "no_open_episode"


async def test_rp5_register_form_in_manual_mode_with_a_live_standby_is_not_allowed() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    await world.register_replica(agent)
    with pytest.raises(ConflictError) as refused:
        await world.create(agent, instance_id=STANDBY_2, pool_id=POOL_C)
    assert refused.value.detail["reason"] == "standby_exists"


async def test_rp6_register_form_serves_an_open_episode_that_has_no_replica() -> None:
    world = ReplicaWorld()
    await world.market({POOL_A: Decimal("0.0131")})  # no other pool: the rebalance finds none
    agent = await world.registered()
    outcome = await world.emergency(agent)
    assert outcome.episode is not None
    assert outcome.replica is None
    replica = await world.register_replica(agent, STANDBY, POOL_D)
    assert replica.episode_id == outcome.episode.episode_id
    assert outcome.episode.replica_id == replica.replica_id
    check(world, agent)


async def test_in1_register_form_with_an_id_of_another_instance_is_instance_in_use() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    with pytest.raises(ConflictError) as refused:
        await world.create(agent, instance_id=OLD, pool_id=POOL_D)
    assert refused.value.code == "instance_in_use"


async def test_r7_register_form_attaches_an_unattached_sighting() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    sighting = make_sighting(agent, STANDBY, first_seen_at=world.clock.now() - timedelta(minutes=3))
    await world.uow.sightings.add(sighting)
    await world.register_replica(agent)
    assert await world.uow.sightings.get(agent.client_id, STANDBY) is None
    assert world.instance(agent, STANDBY).first_seen_at == sighting.first_seen_at


@pytest.mark.parametrize("pool_id", [POOL_A, "m5.large.us-east-1d", "t3.medium.eu-west-1a", "nonsense"])
async def test_rp1_register_form_outside_the_primary_type_region_or_in_its_pool_is_pool_mismatch(pool_id: str) -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    with pytest.raises(UnusableTargetError) as refused:
        await world.create(agent, instance_id=STANDBY, pool_id=pool_id)
    assert refused.value.code == "pool_mismatch"


# --- R1 request form (L1) -------------------------------------------------------------------------------------------


async def test_domain_l1_request_form_needs_manual_replica_mode() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    with pytest.raises(SettingDisabledError) as refused:
        await world.create(agent)
    assert refused.value.detail["setting"] == "manual_replica_enabled"


async def test_domain_l1_request_form_creates_a_launch_request_in_the_cheapest_safe_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent, created_by_label="dashboard")).replica
    assert (replica.status, replica.instance_id, replica.pool_id) == (ReplicaStatus.LAUNCHING, None, POOL_B)
    assert replica.created_by == "client"
    assert replica.tags["created_by_label"] == "dashboard"
    assert replica.sync_status is SyncStatus.INITIALIZING
    assert replica.hourly_price_at_creation == Decimal("0.0100")
    assert replica.kind is ReplicaKind.MANUAL
    assert replica.is_launch_request
    check(world, agent)


async def test_domain_l1_request_form_honours_excluded_zones_and_the_cost_cap() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent, exclude_zones=("us-east-1b",), max_hourly_cost=Decimal("0.012"))).replica
    assert replica.pool_id == POOL_D


async def test_domain_l1_request_form_without_a_possible_pool_is_no_eligible_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    with pytest.raises(ConflictError) as refused:
        await world.create(agent, exclude_zones=("us-east-1b", "us-east-1c", "us-east-1d"))
    assert refused.value.code == "no_eligible_pool"


async def test_rp5_request_form_with_a_live_replica_is_replica_exists() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    first = (await world.create(agent)).replica
    with pytest.raises(ConflictError) as refused:
        await world.create(agent)
    assert (refused.value.code, refused.value.detail["replica_id"]) == ("replica_exists", first.replica_id)


async def test_pr33_request_form_naming_a_pool_unseen_for_a_day_is_pool_unavailable() -> None:
    world = ReplicaWorld()
    await world.market(seen=world.clock.now() - timedelta(days=2))
    agent = await world.registered()
    agent.auto_switch_enabled, agent.manual_replica_enabled = False, True
    with pytest.raises(UnusableTargetError) as refused:
        await world.create(agent, pool_id=POOL_C)
    assert refused.value.code == "pool_unavailable"


# --- R2 listing and the launcher claim (L3, RP-10) ------------------------------------------------------------------


async def test_domain_l3_launcher_listing_claims_each_request_once_per_lease() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    first = await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))
    assert [r.replica_id for r in first.replicas] == [replica.replica_id]
    assert first.total == 1
    assert replica.launch_claims == 1
    assert replica.launch_lease_expires_at == world.clock.now() + timedelta(seconds=180)
    world.advance(seconds=179)
    assert not (await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))).replicas
    world.advance(seconds=1)
    again = await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))
    assert again.replicas
    assert replica.launch_claims == 2


async def test_rp10_pitfall5_third_claim_fails_the_request_only_when_its_lease_expires() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    launching = frozenset({ReplicaStatus.LAUNCHING})
    for _ in range(3):
        await world.list_replicas(agent, statuses=launching)
        world.advance(seconds=180)
    assert replica.launch_claims == 3
    assert replica.status is ReplicaStatus.LAUNCHING
    # The third lease started 180 s ago and expires now: only then does the request fail (not at the 3rd claim).
    world.advance(seconds=-1)
    await world.coordinate(agent)
    assert replica.status is ReplicaStatus.LAUNCHING
    world.advance(seconds=1)
    await world.coordinate(agent)
    assert (replica.status, replica.failure_reason) == (ReplicaStatus.FAILED, "launch_unconfirmed")


async def test_rp10_pitfall5_the_launcher_can_still_attach_during_the_third_lease() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    for _ in range(3):
        await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))
        world.advance(seconds=180)
    world.advance(seconds=-60)
    await world.coordinate(agent)
    await world.attach(agent, replica)
    assert replica.status is ReplicaStatus.SYNCING


async def test_w30_an_attached_request_is_never_listed_to_the_launcher_again() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))
    await world.attach(agent, replica)
    world.advance(minutes=5)
    assert not (await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))).replicas


async def test_r2_plain_listing_is_newest_first_filtered_paged_and_claims_nothing() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    old = (await world.create(agent)).replica
    await world.retire(agent, old)
    world.advance(minutes=1)
    new = (await world.create(agent)).replica
    live = await world.list_replicas(agent)
    assert [r.replica_id for r in live.replicas] == [new.replica_id]
    assert live.total == 1
    everything = await world.list_replicas(agent, include_terminated=True, limit=1)
    assert [r.replica_id for r in everything.replicas] == [new.replica_id]
    assert everything.total == 2
    terminated = await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.TERMINATED}))
    assert [r.replica_id for r in terminated.replicas] == [old.replica_id]
    assert new.launch_claims == 0


# --- R5 attach (L4, L5, L16, RP-3) ----------------------------------------------------------------------------------


async def test_domain_l4_attach_makes_the_request_a_syncing_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.attach(agent, replica)
    assert (replica.status, replica.sync_status, replica.instance_id) == (
        ReplicaStatus.SYNCING,
        SyncStatus.SYNCING,
        STANDBY,
    )
    assert world.role(agent, STANDBY) is InstanceRole.STANDBY
    check(world, agent)


async def test_domain_l16_attach_with_the_same_id_again_is_a_no_op() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.attach(agent, replica)
    commits = world.uow.commits
    await world.attach(agent, replica)
    assert world.uow.commits == commits
    assert replica.status is ReplicaStatus.SYNCING


async def test_rp3_attach_with_another_id_is_instance_id_conflict() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.attach(agent, replica)
    with pytest.raises(RuleConflictError) as refused:
        await world.attach(agent, replica, STANDBY_2)
    assert refused.value.code == "instance_id_conflict"


async def test_in1_attach_with_the_id_of_another_instance_is_instance_id_conflict() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    with pytest.raises(ConflictError) as refused:
        await world.attach(agent, replica, OLD)
    assert refused.value.code == "instance_id_conflict"


async def test_domain_l5_attach_with_ready_is_l4_plus_l7() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.attach(agent, replica, status=ReplicaStatus.READY)
    assert replica.status is ReplicaStatus.READY
    assert replica.state_transfer_progress == 100


async def test_domain_l15_attach_to_a_terminated_replica_is_replica_terminal() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.retire(agent, replica)
    with pytest.raises(RuleConflictError) as refused:
        await world.attach(agent, replica)
    assert refused.value.code == "replica_terminal"


# --- R6 status reports (L7, L9, L10, L12, L13, L15, L16) ------------------------------------------------------------


async def test_domain_l7_ready_report_makes_a_syncing_replica_ready_with_its_notification() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    result = await world.report(agent, replica, ReplicaStatus.READY)
    assert (result.previous_status, replica.status, replica.sync_status) == (
        ReplicaStatus.SYNCING,
        ReplicaStatus.READY,
        SyncStatus.SYNCED,
    )
    assert world.notifications("replica-ready")


async def test_domain_l16_syncing_or_ready_again_after_ready_is_a_no_op() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    commits = world.uow.commits
    for status in (ReplicaStatus.SYNCING, ReplicaStatus.READY, ReplicaStatus.LAUNCHING):
        result = await world.report(agent, replica, status)
        assert result.previous_status is ReplicaStatus.READY
        assert replica.status is ReplicaStatus.READY
    assert world.uow.commits == commits


async def test_domain_l4_syncing_report_without_an_instance_id_is_invalid_transition() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    with pytest.raises(RuleConflictError) as refused:
        await world.report(agent, replica, ReplicaStatus.SYNCING)
    assert refused.value.code == "invalid_transition"
    assert refused.value.detail == {"from": "launching", "to": "syncing", "reason": "instance_id_required"}


async def test_domain_l9_failed_report_fails_a_launch_request_with_its_notification() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.report(agent, replica, ReplicaStatus.FAILED, error_message="InsufficientInstanceCapacity")
    assert (replica.status, replica.failure_reason) == (ReplicaStatus.FAILED, "InsufficientInstanceCapacity")
    assert world.notifications("replica-failed")


async def test_domain_l10_i9_failed_standby_instance_is_kept_old_with_termination_requested() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    await world.report(agent, replica, ReplicaStatus.FAILED, error_message="health check failed")
    instance = world.instance(agent, STANDBY)
    assert (instance.role, instance.kept_reason) == (InstanceRole.KEPT_OLD, KeptReason.TERMINATION_REQUESTED)
    assert world.notifications("terminate-instance")
    check(world, agent)


async def test_domain_l12_l13_terminated_report_confirms_the_instance_gone_once() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    await world.report(agent, replica, ReplicaStatus.TERMINATED)
    instance = world.instance(agent, STANDBY)
    assert replica.status is ReplicaStatus.TERMINATED
    assert replica.termination_confirmed_at is not None
    assert (instance.role, instance.termination_reason, instance.termination_confirmed) == (
        InstanceRole.TERMINATED,
        TerminationReason.RETIRED,
        True,
    )
    confirmed = replica.termination_confirmed_at
    world.advance(minutes=1)
    await world.report(agent, replica, ReplicaStatus.TERMINATED)
    assert replica.termination_confirmed_at == confirmed
    check(world, agent)


async def test_domain_l15_a_promoted_replica_accepts_only_an_identical_repeat() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    world.advance(seconds=30)
    await world.promote(agent, replica)
    with pytest.raises(RuleConflictError) as refused:
        await world.report(agent, replica, ReplicaStatus.READY)
    assert refused.value.code == "invalid_transition"


# --- R7 sync reports (L6, L7, L8) -----------------------------------------------------------------------------------


async def test_domain_l6_progress_is_non_decreasing_and_100_makes_the_replica_ready() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    await world.sync(agent, replica, state_transfer_progress=Decimal(40), sync_latency_ms=120)
    await world.sync(agent, replica, state_transfer_progress=Decimal(30))
    assert replica.state_transfer_progress == 40
    assert replica.sync_latency_ms == 120
    assert replica.last_sync_at == world.clock.now()
    await world.sync(agent, replica, state_transfer_progress=Decimal(100))
    assert replica.status is ReplicaStatus.READY  # L7


async def test_domain_l8_rp4a_an_out_of_sync_ready_replica_is_not_promotable() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    await world.sync(agent, replica, sync_status=SyncStatus.OUT_OF_SYNC)
    assert replica.status is ReplicaStatus.READY
    with pytest.raises(ConflictError) as refused:
        await world.promote(agent, replica)
    assert refused.value.code == "replica_not_promotable"
    assert refused.value.detail == {"status": "ready", "sync_status": "out-of-sync"}


async def test_domain_l15_sync_report_on_a_terminal_replica_is_replica_terminal() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    await world.report(agent, replica, ReplicaStatus.FAILED)
    with pytest.raises(RuleConflictError) as refused:
        await world.sync(agent, replica, state_transfer_progress=Decimal(50))
    assert refused.value.code == "replica_terminal"


# --- R3 manual promotion (§3.7.3) -----------------------------------------------------------------------------------


async def test_domain_l14_manual_promotion_makes_the_replica_primary_and_requests_the_old_ones_termination() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    await world.emergency(agent)  # auto-switch mode: the replica belongs to a rebalance episode
    replica = world.replicas(agent, live=True)[0]
    await world.attach(agent, replica, status=ReplicaStatus.READY)
    switch = await world.queue(agent)
    world.advance(minutes=2)
    result = await world.promote(agent, replica)
    assert replica.status is ReplicaStatus.PROMOTED
    assert agent.primary_instance_id == STANDBY
    assert (agent.pool_id, agent.placement_since) == (replica.pool_id, world.clock.now())
    old = world.instance(agent, OLD)
    assert (old.role, old.kept_reason) == (InstanceRole.KEPT_OLD, KeptReason.TERMINATION_REQUESTED)  # I7
    assert (result.old_instance_id, result.old_instance_role, result.demoted_replica_id) == (
        OLD,
        InstanceRole.KEPT_OLD,
        None,
    )
    assert switch.cancel_reason == "primary_changed"  # step 7
    assert world.episodes(agent)[0].state.value == "superseded"  # V7
    assert world.notifications("replica-promoted")
    assert world.notifications("terminate-instance")
    check(world, agent)


async def test_domain_i6_manual_promotion_with_auto_terminate_off_keeps_the_old_primary() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    agent.auto_terminate_enabled = False
    replica = await world.ready_standby(agent)
    await world.promote(agent, replica, demote_old_primary=False)
    old = world.instance(agent, OLD)
    assert (old.role, old.kept_reason) == (InstanceRole.KEPT_OLD, KeptReason.KEPT)
    check(world, agent)


async def test_domain_i4_manual_mode_demotes_a_live_old_primary_to_a_ready_manual_standby() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    agent.last_heartbeat_at = world.clock.now()
    result = await world.promote(agent, replica)
    demoted = await world.uow.replicas.find_by_instance(agent.agent_id, OLD)
    assert demoted is not None
    assert result.demoted_replica_id == demoted.replica_id
    assert (demoted.kind, demoted.status, demoted.sync_status, demoted.pool_id) == (
        ReplicaKind.MANUAL,
        ReplicaStatus.READY,
        SyncStatus.SYNCED,
        POOL_A,
    )
    assert world.role(agent, OLD) is InstanceRole.STANDBY
    assert result.old_instance_role is InstanceRole.STANDBY
    check(world, agent)


async def test_domain_i4_needs_a_live_old_primary() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    world.advance(minutes=3)  # the primary's last heartbeat is older than 120 s (C-7)
    result = await world.promote(agent, replica)
    assert result.demoted_replica_id is None
    assert world.role(agent, OLD) is InstanceRole.KEPT_OLD


async def test_idempotent_promotion_of_the_same_replica_returns_the_first_result() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.ready_standby(agent)
    first = await world.promote(agent, replica)
    world.advance(seconds=10)
    again = await world.promote(agent, replica)
    assert again.replayed
    assert not first.replayed
    assert (again.new_instance_id, again.old_instance_id, again.demoted_replica_id, again.promoted_at) == (
        first.new_instance_id,
        first.old_instance_id,
        first.demoted_replica_id,
        first.promoted_at,
    )
    assert len([r for r in world.replicas(agent) if r.status is ReplicaStatus.PROMOTED]) == 1


async def test_promotion_in_progress_for_another_replica_of_the_agent_at_the_same_time() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    first = make_replica(agent, status=ReplicaStatus.READY, instance_id=STANDBY, pool_id=POOL_C, az="us-east-1c")
    second = make_replica(agent, status=ReplicaStatus.READY, instance_id=STANDBY_2, pool_id=POOL_D)
    for replica in (first, second):
        replica.sync_status = SyncStatus.SYNCED
        await world.uow.replicas.add(replica)
        await world.supply.host(agent, replica, replica.instance_id or STANDBY, world.clock.now())
    await world.promote(agent, first)
    with pytest.raises(ConflictError) as refused:
        await world.promote(agent, second)
    assert (refused.value.code, refused.value.detail["replica_id"]) == ("promotion_in_progress", first.replica_id)


async def test_rp4a_a_syncing_replica_is_not_promoted_on_request() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    with pytest.raises(ConflictError) as refused:
        await world.promote(agent, replica)
    assert refused.value.detail["status"] == "syncing"
    assert agent.primary_instance_id == OLD


async def test_rp1_step5_promotion_retires_other_replicas_in_the_new_pool() -> None:
    world = ReplicaWorld()
    agent = await world.agent()
    promoted = make_replica(agent, status=ReplicaStatus.READY, instance_id=STANDBY, sync_status=SyncStatus.SYNCED)
    sibling = make_replica(agent, status=ReplicaStatus.LAUNCHING)  # same pool D, a launch request
    for replica in (promoted, sibling):
        await world.uow.replicas.add(replica)
    await world.supply.host(agent, promoted, STANDBY, world.clock.now())
    await world.promote(agent, promoted)
    assert (sibling.status, sibling.termination_reason) == (ReplicaStatus.TERMINATED, "pool_conflict")
    check(world, agent)


# --- R4 retire (L11) ------------------------------------------------------------------------------------------------


async def test_domain_l11_retire_requests_the_instance_termination() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    result = await world.retire(agent, replica)
    assert (replica.status, replica.termination_reason) == (ReplicaStatus.TERMINATED, "client_request")
    assert result.terminated_at == world.clock.now()
    assert result.instance_role is InstanceRole.KEPT_OLD
    assert world.instance(agent, STANDBY).kept_reason is KeptReason.TERMINATION_REQUESTED  # I9
    check(world, agent)


async def test_domain_l11_retiring_a_claimed_launch_request_warns_that_a_launch_may_be_running() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = (await world.create(agent)).replica
    await world.list_replicas(agent, statuses=frozenset({ReplicaStatus.LAUNCHING}))
    await world.retire(agent, replica)
    assert "replica_launch_may_be_running" in world.uow.event_types()


async def test_r4_retiring_again_returns_the_recorded_values_and_a_promoted_replica_is_terminal() -> None:
    world = ReplicaWorld()
    agent = await world.agent(manual=True)
    replica = await world.register_replica(agent)
    first = await world.retire(agent, replica)
    world.advance(minutes=1)
    again = await world.retire(agent, replica)
    assert again.terminated_at == first.terminated_at
    ready = await world.ready_standby(agent, STANDBY_2, POOL_C)
    await world.promote(agent, ready)
    with pytest.raises(ConflictError) as refused:
        await world.retire(agent, ready)
    assert (refused.value.code, refused.value.detail["status"]) == ("replica_terminal", "promoted")


async def test_rp8_a_replica_is_addressed_only_through_its_own_agent() -> None:
    world = ReplicaWorld()
    await world.market()
    client = await world.add_client()
    agent = await world.registered(client)
    agent.auto_switch_enabled, agent.manual_replica_enabled = False, True
    replica = (await world.create(agent)).replica
    sibling = await world.registered(client, logical_agent_id="web-2", instance_id="i-0bbbbbbbbbbbbbbbb")
    with pytest.raises(NotFoundError):
        await world.retire(sibling, replica)
    stranger = await world.registered(logical_agent_id="web-3", instance_id="i-0cccccccccccccccc")
    with pytest.raises(NotFoundError):
        await world.promote(stranger, replica)
    assert replica.status is ReplicaStatus.LAUNCHING
