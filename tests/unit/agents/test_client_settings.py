"""C5 – C8 through their use cases (domain §3.1 E1/E2/A9, §3.6 M1 – M7, AG-5 – AG-7, AG-9, RP-7, CC-1)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.agent import Agent, Thresholds
from spotopt.domain.agents.settings import SettingsChange, change_settings
from spotopt.domain.agents.values import InstanceRole, KeptReason, Lifecycle, TerminationReason
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from tests.factories.commands import make_command
from tests.factories.common import OLD, T0
from tests.factories.replica_world import STANDBY
from tests.factories.replicas import make_episode, make_replica
from tests.factories.world import assert_ledger_consistent, assert_one_primary
from tests.factories.writes_world import WritesWorld


async def queued(world: WritesWorld, agent: Agent, origin: CommandOrigin, **kw: object) -> str:
    command = make_command(agent, origin=origin, **kw)
    await world.uow.commands.add(command)
    await world.uow.commit_setup()
    return command.command_id


def status(world: WritesWorld, command_id: str) -> tuple[CommandStatus, str | None]:
    command = world.uow.store.commands[command_id]
    return command.status, command.cancel_reason


# --- C5: enabled flag -------------------------------------------------------------------------------------------------


async def test_domain_e1_disabling_cancels_pending_non_emergency_switches_only() -> None:
    world = WritesWorld()
    agent = await world.agent()
    api = await queued(world, agent, CommandOrigin.API)
    emergency = await queued(world, agent, CommandOrigin.EMERGENCY, deadline=T0)
    result = await world.toggle(agent, enabled=False)
    assert result.cancelled_command_ids == (api,)
    assert status(world, api) == (CommandStatus.CANCELLED, "agent_disabled")
    assert status(world, emergency) == (CommandStatus.PENDING, None)
    assert world.uow.store.agents[agent.agent_id].enabled is False
    assert "agent_disabled" in world.uow.event_types()


async def test_domain_e2_enabling_records_agent_enabled_and_a_repeat_changes_nothing() -> None:
    world = WritesWorld()
    agent = await world.agent()
    agent.enabled = False
    await world.uow.commit_setup()
    await world.toggle(agent, enabled=True)
    assert world.uow.event_types().count("agent_enabled") == 1
    commits, version = world.uow.commits, world.uow.store.agents[agent.agent_id].version
    again = await world.toggle(agent, enabled=True)
    assert (again.enabled, again.cancelled_command_ids) == (True, ())
    assert world.uow.commits == commits
    assert world.uow.store.agents[agent.agent_id].version == version
    assert world.uow.event_types().count("agent_enabled") == 1


async def test_ag2_cl4_settings_of_a_foreign_or_deleted_agent_are_not_found() -> None:
    world = WritesWorld()
    agent = await world.agent()
    foreign = dataclasses.replace(agent, client_id=ClientId("someone-else"))
    with pytest.raises(NotFoundError):
        await world.toggle(foreign, enabled=False)
    assert world.uow.store.agents[agent.agent_id].enabled is True
    await world.delete(agent)
    with pytest.raises(NotFoundError):
        await world.settings(agent, auto_terminate_enabled=False)


# --- C6: replica modes (M1 – M6) ------------------------------------------------------------------------------------


def test_domain_m1_both_modes_on_is_a_validation_error() -> None:
    with pytest.raises(InvalidValueError) as raised:
        SettingsChange(auto_switch_enabled=True, manual_replica_enabled=True)
    assert raised.value.field == "manual_replica_enabled"


@pytest.mark.parametrize("wait", [29, 3601])
def test_ag6_terminate_wait_outside_30_to_3600_is_rejected(wait: int) -> None:
    with pytest.raises(InvalidValueError):
        SettingsChange(terminate_wait_seconds=wait)


def test_c6_an_empty_change_is_rejected() -> None:
    with pytest.raises(InvalidValueError):
        SettingsChange()


async def test_domain_m3_entering_manual_mode_turns_auto_switch_off_and_cancels_voluntary_commands() -> None:
    world = WritesWorld()
    agent = await world.agent()
    api = await queued(world, agent, CommandOrigin.API)
    result = await world.settings(agent, manual_replica_enabled=True)
    stored = world.uow.store.agents[agent.agent_id]
    assert (stored.auto_switch_enabled, stored.manual_replica_enabled) == (False, True)  # AG-5
    assert result.cancelled_command_ids == (api,)
    assert status(world, api) == (CommandStatus.CANCELLED, "mode_changed")
    assert world.uow.event_types().count("mode_changed") == 1


async def test_domain_m5_auto_switch_off_keeps_manual_and_emergency_commands() -> None:
    world = WritesWorld()
    agent = await world.agent()
    automatic = await queued(world, agent, CommandOrigin.AUTOMATIC)
    await world.settings(agent, auto_switch_enabled=False)
    assert status(world, automatic) == (CommandStatus.CANCELLED, "mode_changed")
    world2 = WritesWorld()
    agent2 = await world2.agent()
    manual = await queued(world2, agent2, CommandOrigin.MANUAL)
    result = await world2.settings(agent2, auto_switch_enabled=False)
    assert result.cancelled_command_ids == ()
    assert status(world2, manual) == (CommandStatus.PENDING, None)


async def test_domain_m2_auto_switch_on_leaves_manual_mode_and_retires_its_standby() -> None:
    world = WritesWorld()
    agent = await world.agent(manual=True)
    await world.uow.commit_setup()
    standby = await world.ready_standby(agent)
    result = await world.settings(agent, auto_switch_enabled=True)
    stored = world.uow.store.agents[agent.agent_id]
    assert (stored.auto_switch_enabled, stored.manual_replica_enabled) == (True, False)
    assert result.retired_replica_ids == (standby.replica_id,)
    replica = world.uow.store.replicas[standby.replica_id]
    assert (replica.status, replica.termination_reason) == (ReplicaStatus.TERMINATED, "mode_changed")
    instance = world.instance(agent, STANDBY)
    assert (instance.role, instance.kept_reason) == (InstanceRole.KEPT_OLD, KeptReason.TERMINATION_REQUESTED)
    assert_ledger_consistent(world)


async def test_rp7_domain_m4_a_manual_replica_serving_an_open_episode_is_not_retired() -> None:
    world = WritesWorld()
    agent = await world.agent(manual=True)
    episode = make_episode(agent)
    await world.uow.episodes.add(episode)
    serving = make_replica(agent, kind=ReplicaKind.MANUAL, episode_id=episode.episode_id)
    idle = make_replica(agent, kind=ReplicaKind.MANUAL, pool_id="t3.medium.us-east-1c", az="us-east-1c")
    await world.uow.replicas.add(serving)
    await world.uow.replicas.add(idle)
    await world.uow.commit_setup()
    result = await world.settings(agent, manual_replica_enabled=False)
    assert result.retired_replica_ids == (idle.replica_id,)
    assert world.uow.store.replicas[serving.replica_id].status is ReplicaStatus.LAUNCHING
    assert world.uow.store.replicas[idle.replica_id].status is ReplicaStatus.TERMINATED


async def test_domain_m6_termination_settings_change_alone_is_settings_changed_and_idempotent() -> None:
    world = WritesWorld()
    agent = await world.agent()
    await world.settings(agent, auto_terminate_enabled=False, terminate_wait_seconds=600)
    stored = world.uow.store.agents[agent.agent_id]
    assert (stored.auto_terminate_enabled, stored.terminate_wait_seconds, stored.effective_terminate_wait) == (
        False,
        600,
        0,
    )
    commits = world.uow.commits
    await world.settings(agent, auto_terminate_enabled=False, terminate_wait_seconds=600)
    assert world.uow.commits == commits
    assert world.uow.event_types().count("settings_changed") == 1
    assert "mode_changed" not in world.uow.event_types()


_flags = st.one_of(st.none(), st.booleans())


@settings(max_examples=200, deadline=None)
@given(
    start=st.sampled_from([(True, False), (False, True), (False, False)]),
    changes=st.lists(st.tuples(_flags, _flags), min_size=1, max_size=6),
)
def test_ag5_property_no_sequence_of_settings_changes_turns_both_modes_on(
    start: tuple[bool, bool], changes: list[tuple[bool | None, bool | None]]
) -> None:
    """AG-5 / domain M1 – M5: whatever the valid requests, the two replica modes are never both on, and a mode
    the request names is the value the request asked for."""
    agent = Agent(agent_id="a", client_id=ClientId("c"), logical_agent_id="l", created_at=T0, updated_at=T0)  # type: ignore[arg-type]
    agent.auto_switch_enabled, agent.manual_replica_enabled = start
    for auto, manual in changes:
        try:
            change = SettingsChange(
                auto_switch_enabled=auto, manual_replica_enabled=manual, auto_terminate_enabled=True
            )
        except InvalidValueError:
            assert (auto, manual) == (True, True)
            continue
        change_settings(agent, change)
        assert not (agent.auto_switch_enabled and agent.manual_replica_enabled)
        if auto is not None:
            assert agent.auto_switch_enabled is auto
        if manual is not None:
            assert agent.manual_replica_enabled is manual


# --- C7: thresholds (AG-7, M7) -------------------------------------------------------------------------------------


async def test_domain_m7_thresholds_merge_and_record_settings_changed() -> None:
    world = WritesWorld()
    agent = await world.agent()
    view = await world.config(agent, risk_threshold=Decimal("0.45"), max_switches_per_day=5)
    assert view.agent.thresholds == Thresholds(risk_threshold=Decimal("0.45"), max_switches_per_day=5)
    assert world.uow.store.agents[agent.agent_id].thresholds.risk_threshold == Decimal("0.45")
    assert world.uow.event_types().count("settings_changed") == 1


async def test_ag7_weekly_below_the_effective_daily_limit_is_rejected_and_writes_nothing() -> None:
    world = WritesWorld()
    agent = await world.agent()
    await world.config(agent, max_switches_per_day=8)
    events = list(world.uow.event_types())
    with pytest.raises(InvalidValueError) as raised:
        await world.config(agent, max_switches_per_week=7)
    assert raised.value.field == "max_switches_per_week"
    stored = world.uow.store.agents[agent.agent_id]
    assert (stored.thresholds.max_switches_per_day, stored.thresholds.max_switches_per_week) == (8, 10)
    assert world.uow.event_types() == events


@pytest.mark.parametrize(
    ("name", "value"),
    [("min_savings_percent", Decimal("100.01")), ("risk_threshold", Decimal("-0.01")), ("cooldown_minutes", 1441)],
)
async def test_ag7_out_of_range_thresholds_are_rejected_never_clamped(name: str, value: Decimal | int) -> None:
    world = WritesWorld()
    agent = await world.agent()
    with pytest.raises(InvalidValueError):
        await world.config(agent, **{name: value})
    assert world.uow.store.agents[agent.agent_id].thresholds == Thresholds()


# --- C8: delete (A9) ----------------------------------------------------------------------------------------------


async def test_domain_a9_delete_cancels_supersedes_terminates_and_closes_the_ledger() -> None:
    world = WritesWorld()
    agent = await world.agent(manual=True)
    await world.uow.commit_setup()
    standby = await world.ready_standby(agent)
    episode = make_episode(agent)
    await world.uow.episodes.add(episode)
    delivered = make_command(agent, origin=CommandOrigin.MANUAL, status=CommandStatus.DELIVERED)
    await world.uow.commands.add(delivered)
    await world.uow.commit_setup()
    result = await world.delete(agent)
    assert result.instances_possibly_running == tuple(sorted([OLD, STANDBY]))
    stored = world.uow.store.agents[agent.agent_id]
    assert (stored.lifecycle, stored.deleted_at, stored.primary_instance_id) == (Lifecycle.DELETED, T0, None)
    assert status(world, delivered.command_id) == (CommandStatus.CANCELLED, "agent_deleted")
    assert world.uow.store.episodes[episode.episode_id].state is EpisodeState.SUPERSEDED
    replica = world.uow.store.replicas[standby.replica_id]
    assert (replica.status, replica.termination_reason) == (ReplicaStatus.TERMINATED, "agent_deleted")
    for instance_id in (OLD, STANDBY):
        instance = world.instance(agent, instance_id)
        assert (instance.role, instance.termination_reason, instance.termination_confirmed) == (
            InstanceRole.TERMINATED,
            TerminationReason.AGENT_DELETED,
            False,
        )
    assert_ledger_consistent(world)  # IN-8: no open entry for a terminated instance
    assert_one_primary(world, stored)
    [notice] = world.notifications("agent-deleted")
    assert OLD in notice.message
    assert STANDBY in notice.message


async def test_ag2_a_second_delete_is_not_found_and_changes_nothing() -> None:
    world = WritesWorld()
    agent = await world.agent()
    await world.delete(agent)
    commits = world.uow.commits
    with pytest.raises(NotFoundError):
        await world.delete(agent)
    assert world.uow.commits == commits
