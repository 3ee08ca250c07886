"""Attribution of agent-process calls: domain §2.12 R-1 … R-7, H-1 … H-7, S-2, C-7 (pitfalls 1, 2, 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.attribution import (
    HeartbeatCase,
    PlacementFacts,
    RegistrationCase,
    attribute_registration,
    heartbeat_case,
    merge_facts,
    name_heartbeat_instance,
    parse_reported_status,
    primary_is_live,
    primary_liveness,
)
from spotopt.domain.agents.values import (
    ExpectedCause,
    InstanceOrigin,
    InstanceRole,
    KeptReason,
    Lifecycle,
    Liveness,
    ReportedStatus,
)
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.matching import (
    Takeover,
    command_targets,
    find_correlated_command,
    find_matching_switch_command,
    switch_takeover,
)
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, InstanceId
from spotopt.domain.shared.pools import Mode

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRIMARY = InstanceId("i-0123456789abcdef0")
NEW = InstanceId("i-0aaaaaaaaaaaaaaaa")
TARGET_POOL = "t3.medium.us-east-1b"
SPOT_B = PlacementFacts(Mode.SPOT, "t3.medium", "us-east-1b", "us-east-1")


def make_command(**overrides: Any) -> AgentCommand:
    values: dict[str, Any] = {
        "command_id": CommandId("c-1"),
        "client_id": ClientId("client-1"),
        "agent_id": AgentId("agent-1"),
        "type": CommandType.SWITCH,
        "target_mode": Mode.SPOT,
        "target_pool_id": TARGET_POOL,
        "terminate_wait_seconds": 0,
        "priority": 25,
        "origin": CommandOrigin.AUTOMATIC,
        "target_instance_id": PRIMARY,
        "created_at": T0 - timedelta(minutes=10),
        "expires_at": T0 + timedelta(minutes=5),
    }
    values.update(overrides)
    return AgentCommand(**values)


def make_delivered(**overrides: Any) -> AgentCommand:
    command = make_command(**overrides)
    command.deliver(command.created_at)
    return command


def make_completed(completed_at: datetime, **overrides: Any) -> AgentCommand:
    command = make_delivered(**overrides)
    command.complete(completed_at, "Switch completed")
    return command


def make_agent(**overrides: Any) -> Agent:
    values: dict[str, Any] = {
        "agent_id": AgentId("agent-1"),
        "client_id": ClientId("client-1"),
        "logical_agent_id": "web-1",
        "created_at": T0 - timedelta(days=1),
        "updated_at": T0,
        "primary_instance_id": PRIMARY,
        "last_heartbeat_at": T0 - timedelta(seconds=30),
    }
    values.update(overrides)
    return Agent(**values)


# --- R-1 … R-7 (pitfall 1): one row per rule, evaluated in order --------------------------------------------------------

MATCH = make_delivered()

REGISTRATION_ROWS = [
    pytest.param(
        False, InstanceRole.PRIMARY, MATCH, True, RegistrationCase.NEW_AGENT, id="r1_no_agent_with_this_logical_id"
    ),
    pytest.param(True, InstanceRole.PRIMARY, MATCH, False, RegistrationCase.PRIMARY, id="r2_the_agents_primary"),
    pytest.param(True, InstanceRole.STANDBY, MATCH, False, RegistrationCase.STANDBY, id="r3_a_standby_instance"),
    pytest.param(True, InstanceRole.KEPT_OLD, None, False, RegistrationCase.KEPT_OLD_OR_TERMINATED, id="r4_kept_old"),
    pytest.param(
        True, InstanceRole.TERMINATED, None, True, RegistrationCase.KEPT_OLD_OR_TERMINATED, id="r4_terminated"
    ),
    pytest.param(True, None, MATCH, True, RegistrationCase.SWITCH_TARGET, id="r5_unknown_with_matching_command"),
    pytest.param(True, None, MATCH, False, RegistrationCase.SWITCH_TARGET, id="r5_precedes_r6"),
    pytest.param(True, None, None, False, RegistrationCase.ADOPTION, id="r6_unknown_and_primary_not_live"),
    pytest.param(True, None, None, True, RegistrationCase.UNATTACHED, id="r7_unknown_while_primary_live"),
]


@pytest.mark.parametrize(("exists", "role", "command", "live", "expected"), REGISTRATION_ROWS)
def test_registration_rules_r1_to_r7(
    exists: bool, role: InstanceRole | None, command: AgentCommand | None, live: bool, expected: RegistrationCase
) -> None:
    case = attribute_registration(
        agent_exists=exists, instance_role=role, has_matching_switch_command=command is not None, primary_is_live=live
    )

    assert case is expected


# --- R-5 matching command ---------------------------------------------------------------------------------------------


def test_r5_delivered_switch_matches_whatever_its_lease_state() -> None:
    command = make_delivered(created_at=T0 - timedelta(hours=5))
    assert command.lease_expires_at is not None
    assert command.lease_expires_at < T0

    assert find_matching_switch_command([command], SPOT_B, T0) is command


@pytest.mark.parametrize(
    ("age", "matches"),
    [
        pytest.param(timedelta(minutes=30) - timedelta(seconds=1), True, id="r5_completed_29m59s_ago"),
        pytest.param(timedelta(minutes=30), False, id="r5_completed_exactly_30m_ago"),
    ],
)
def test_r5_completed_switch_matches_only_inside_30_minutes(age: timedelta, matches: bool) -> None:
    command = make_completed(T0 - age)

    assert (find_matching_switch_command([command], SPOT_B, T0) is command) is matches


def test_r5_completed_switch_with_a_switch_record_does_not_match() -> None:
    command = make_completed(T0 - timedelta(minutes=1))

    assert find_matching_switch_command([command], SPOT_B, T0, switched_command_ids={command.command_id}) is None


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(make_command(), id="r5_pending_never_matches"),
        pytest.param(make_command(status=CommandStatus.FAILED, completed_at=T0), id="r5_failed_never_matches"),
        pytest.param(make_command(status=CommandStatus.CANCELLED, completed_at=T0), id="r5_cancelled_never_matches"),
        pytest.param(make_delivered(type=CommandType.CREATE_REPLICA), id="r5_create_replica_never_matches"),
        pytest.param(make_delivered(target_pool_id="t3.medium.us-east-1c"), id="r5_other_az"),
        pytest.param(make_delivered(target_pool_id="t3.large.us-east-1b"), id="r5_other_instance_type"),
        pytest.param(make_delivered(target_mode=Mode.ONDEMAND, target_pool_id=None), id="r5_other_mode"),
    ],
)
def test_r5_non_matching_commands(command: AgentCommand) -> None:
    assert find_matching_switch_command([command], SPOT_B, T0) is None


def test_r5_on_demand_target_matches_on_mode_alone() -> None:
    command = make_delivered(target_mode=Mode.ONDEMAND, target_pool_id=None)
    facts = PlacementFacts(Mode.ONDEMAND, "t3.medium", "us-east-1c", "us-east-1")

    assert find_matching_switch_command([command], facts, T0) is command


def test_r5_the_most_recent_match_wins() -> None:
    older = make_completed(T0 - timedelta(minutes=5), command_id=CommandId("older"))
    newer = make_delivered(command_id=CommandId("newer"), created_at=T0 - timedelta(minutes=2))

    assert find_matching_switch_command([newer, older], SPOT_B, T0) is newer


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(PlacementFacts(Mode.SPOT, "t3.medium", "unknown", "us-east-1"), id="placeholder_az"),
        pytest.param(PlacementFacts(Mode.SPOT, "unknown", "us-east-1b", "us-east-1"), id="placeholder_type"),
        pytest.param(PlacementFacts(Mode.UNKNOWN, "t3.medium", "us-east-1b", "us-east-1"), id="placeholder_mode"),
    ],
)
def test_pitfall13_placeholder_facts_never_match_a_spot_target(facts: PlacementFacts) -> None:
    assert facts.pool_id is None
    assert find_matching_switch_command([make_delivered()], facts, T0) is None


# --- S-2 correlation ------------------------------------------------------------------------------------------------


def test_s2_explicit_command_of_the_agent_wins_whatever_its_state() -> None:
    explicit = make_completed(T0 - timedelta(days=1), command_id=CommandId("explicit"), target_pool_id=None)
    explicit.target_mode = Mode.ONDEMAND
    other = make_delivered(command_id=CommandId("other"))

    assert find_correlated_command([explicit, other], "explicit", SPOT_B, T0) is explicit


def test_s2_foreign_explicit_command_falls_back_to_the_search() -> None:
    delivered = make_delivered()

    assert find_correlated_command([delivered], "not-the-agents", SPOT_B, T0) is delivered


@pytest.mark.parametrize(
    ("age", "correlates"),
    [
        pytest.param(timedelta(minutes=45), True, id="s2_45m_is_beyond_r5_but_inside_s2"),
        pytest.param(timedelta(hours=2), True, id="s2_exactly_2h"),
        pytest.param(timedelta(hours=2, seconds=1), False, id="s2_2h_and_1s"),
    ],
)
def test_s2_completed_switch_correlates_within_two_hours(age: timedelta, correlates: bool) -> None:
    command = make_completed(T0 - age)

    assert (find_correlated_command([command], None, SPOT_B, T0) is command) is correlates


def test_s2_completed_switch_with_a_switch_record_does_not_correlate() -> None:
    command = make_completed(T0 - timedelta(minutes=1))

    assert find_correlated_command([command], None, SPOT_B, T0, {command.command_id}) is None


def test_s2_target_must_match_the_new_instance() -> None:
    command = make_delivered(target_pool_id="t3.medium.us-east-1c")

    assert find_correlated_command([command], None, SPOT_B, T0) is None


# --- R-5 / S-3 takeover (pitfall 2) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(
            make_delivered(terminate_wait_seconds=300),
            Takeover(
                InstanceOrigin.SWITCH,
                KeptReason.AWAITING_TERMINATION,
                ExpectedCause.SWITCH,
                T0 + timedelta(seconds=300),
            ),
            id="r5_wait_awaits_termination_by_switch",
        ),
        pytest.param(make_delivered(), Takeover(InstanceOrigin.SWITCH, KeptReason.KEPT), id="r5_wait_0_keeps_old"),
        pytest.param(
            make_delivered(origin=CommandOrigin.EMERGENCY, priority=100),
            Takeover(
                InstanceOrigin.FALLBACK,
                KeptReason.AWAITING_TERMINATION,
                ExpectedCause.INTERRUPTION,
                T0 + timedelta(seconds=90),
            ),
            id="r5_emergency_fallback_awaits_interruption_at_the_deadline",
        ),
        pytest.param(None, Takeover(InstanceOrigin.SWITCH, KeptReason.KEPT), id="s3_without_command_keeps_old"),
    ],
)
def test_r5_s3_takeover_roles(command: AgentCommand | None, expected: Takeover) -> None:
    assert switch_takeover(command, now=T0, episode_deadline=T0 + timedelta(seconds=90)) == expected


@given(
    wait=st.integers(0, 3600),
    emergency=st.booleans(),
    completed_seconds_ago=st.none() | st.integers(0, 7200),
)
def test_pitfall2_r5_and_s2_agree_on_the_command_and_the_takeover(
    wait: int, emergency: bool, completed_seconds_ago: int | None
) -> None:
    origin = CommandOrigin.EMERGENCY if emergency else CommandOrigin.MANUAL
    command = make_delivered(terminate_wait_seconds=wait, origin=origin)
    if completed_seconds_ago is not None:
        command.complete(T0 - timedelta(seconds=completed_seconds_ago), "Switch completed")

    via_registration = find_matching_switch_command([command], SPOT_B, T0)
    via_report = find_correlated_command([command], None, SPOT_B, T0)

    assert via_report is command
    if completed_seconds_ago is None or completed_seconds_ago < 1800:
        assert via_registration is command
        assert switch_takeover(via_registration, now=T0) == switch_takeover(via_report, now=T0)
    else:
        assert via_registration is None


# --- C-7 live primary -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "deadline", "live"),
    [
        pytest.param({}, None, True, id="c7_online_with_fresh_heartbeat"),
        pytest.param({"last_heartbeat_at": T0 - timedelta(seconds=120)}, None, True, id="c7_heartbeat_120s_old"),
        pytest.param({"last_heartbeat_at": T0 - timedelta(seconds=121)}, None, False, id="c7_heartbeat_121s_old"),
        pytest.param({"last_heartbeat_at": None}, None, False, id="c7_never_heard_from"),
        pytest.param({"liveness": Liveness.OFFLINE}, None, False, id="c7_offline"),
        pytest.param({"primary_instance_id": None}, None, False, id="c7_no_primary"),
        pytest.param({"lifecycle": Lifecycle.DELETED}, None, False, id="c7_deleted_agent"),
        pytest.param({}, T0, True, id="c7_deadline_now_not_yet_passed"),
        pytest.param({}, T0 - timedelta(seconds=1), False, id="c7_episode_deadline_passed"),
    ],
)
def test_c7_primary_is_live(overrides: dict[str, Any], deadline: datetime | None, live: bool) -> None:
    assert primary_is_live(make_agent(**overrides), deadline, T0) is live


# --- H-1 … H-7 ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_id", "monitored", "named"),
    [
        pytest.param(NEW, [PRIMARY], NEW, id="h1_instance_id_first"),
        pytest.param(None, [PRIMARY, NEW], PRIMARY, id="h1_else_first_monitored"),
        pytest.param("", [PRIMARY], PRIMARY, id="h1_empty_instance_id_is_absent"),
        pytest.param(None, [], None, id="h1_shutdown_body_names_nothing"),
        pytest.param(None, None, None, id="h1_nothing_sent"),
        pytest.param("unknown", None, None, id="h1_placeholder_names_nothing"),
    ],
)
def test_h1_named_instance(instance_id: str | None, monitored: list[str] | None, named: str | None) -> None:
    assert name_heartbeat_instance(instance_id, monitored) == named


def heartbeat(**overrides: Any) -> HeartbeatCase:
    kwargs: dict[str, Any] = {
        "agent_exists": True,
        "named_instance_id": PRIMARY,
        "named_role": InstanceRole.PRIMARY,
        "named_is_sighting": False,
        "status": ReportedStatus.ONLINE,
        "primary_is_live": True,
        "has_awaiting_termination": False,
        "last_primary_change_at": T0 - timedelta(days=1),
        "now": T0,
    }
    kwargs.update(overrides)
    return heartbeat_case(**kwargs)


UNNAMED: dict[str, Any] = {"named_instance_id": None, "named_role": None}
SHUTDOWN: dict[str, Any] = {**UNNAMED, "status": ReportedStatus.OFFLINE}

HEARTBEAT_ROWS = [
    pytest.param({"agent_exists": False}, HeartbeatCase.NOT_FOUND, id="h7_deleted_or_unknown_agent"),
    pytest.param({}, HeartbeatCase.PRIMARY, id="h2_primary_named"),
    pytest.param({"status": ReportedStatus.OFFLINE}, HeartbeatCase.PRIMARY, id="h2_primary_named_offline"),
    pytest.param({"named_role": InstanceRole.STANDBY}, HeartbeatCase.NON_PRIMARY, id="h3_standby"),
    pytest.param({"named_role": InstanceRole.KEPT_OLD}, HeartbeatCase.NON_PRIMARY, id="h3_kept_old"),
    pytest.param({"named_role": InstanceRole.TERMINATED}, HeartbeatCase.NON_PRIMARY, id="h3_terminated_as_r4"),
    pytest.param({"named_role": None, "named_is_sighting": True}, HeartbeatCase.SIGHTING, id="h4_sighting_live"),
    pytest.param(
        {"named_role": None, "named_is_sighting": True, "primary_is_live": False},
        HeartbeatCase.ADOPTION,
        id="h4_sighting_adopted_when_primary_not_live",
    ),
    pytest.param(
        {"named_role": None, "primary_is_live": False}, HeartbeatCase.UNKNOWN_INSTANCE, id="h1_never_seen_instance"
    ),
    pytest.param(
        {**SHUTDOWN, "has_awaiting_termination": True}, HeartbeatCase.IGNORED_SHUTDOWN, id="h5_old_instance_awaits_end"
    ),
    pytest.param(
        {**SHUTDOWN, "last_primary_change_at": T0 - timedelta(minutes=30)},
        HeartbeatCase.IGNORED_SHUTDOWN,
        id="h5_primary_changed_30m_ago",
    ),
    pytest.param(
        {**SHUTDOWN, "last_primary_change_at": T0 - timedelta(minutes=30, seconds=1)},
        HeartbeatCase.PRIMARY_BY_DEFAULT,
        id="h5_primary_changed_30m1s_ago_counts_as_primary",
    ),
    pytest.param(
        {**SHUTDOWN, "last_primary_change_at": None}, HeartbeatCase.PRIMARY_BY_DEFAULT, id="h5_never_changed_primary"
    ),
    pytest.param(
        {**UNNAMED, "has_awaiting_termination": True},
        HeartbeatCase.PRIMARY_BY_DEFAULT,
        id="h5_only_offline_status_is_ignored",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), HEARTBEAT_ROWS)
def test_heartbeat_rules_h1_to_h7(overrides: dict[str, Any], expected: HeartbeatCase) -> None:
    assert heartbeat(**overrides) is expected


@pytest.mark.parametrize(
    ("status", "liveness"),
    [
        pytest.param(ReportedStatus.ONLINE, Liveness.ONLINE, id="online"),
        pytest.param(ReportedStatus.DISABLED, Liveness.ONLINE, id="disabled"),
        pytest.param(ReportedStatus.SWITCHING, Liveness.ONLINE, id="switching"),
        pytest.param(ReportedStatus.ERROR, Liveness.ONLINE, id="error"),
        pytest.param(ReportedStatus.OFFLINE, Liveness.OFFLINE, id="offline"),
    ],
)
def test_h2_primary_status_sets_liveness(status: ReportedStatus, liveness: Liveness) -> None:
    assert primary_liveness(status) is liveness


@pytest.mark.parametrize("value", ["online", "disabled", "offline", "switching", "error"])
def test_h6_accepted_statuses(value: str) -> None:
    assert parse_reported_status(value) == value


def test_h6_missing_status_defaults_to_online() -> None:
    assert parse_reported_status(None) is ReportedStatus.ONLINE


@pytest.mark.parametrize("value", ["running", "ONLINE", ""])
def test_h6_other_statuses_are_validation_errors(value: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_reported_status(value)


# --- pitfall 13: placeholders never overwrite known facts -----------------------------------------------------------


def test_pitfall13_placeholders_keep_the_known_facts() -> None:
    known = PlacementFacts(Mode.SPOT, "t3.medium", "us-east-1a", "us-east-1")

    merged = merge_facts(known, PlacementFacts(Mode.UNKNOWN, "unknown", "unknown", None))

    assert merged.facts == known
    assert merged.corrected == ()


def test_r2_changed_known_facts_are_a_correction() -> None:
    known = PlacementFacts(Mode.SPOT, "t3.medium", "us-east-1a", "us-east-1")

    merged = merge_facts(known, PlacementFacts(Mode.ONDEMAND, "t3.medium", "us-east-1c", "unknown"))

    assert merged.facts == PlacementFacts(Mode.ONDEMAND, "t3.medium", "us-east-1c", "us-east-1")
    assert merged.corrected == ("mode", "az")


def test_pitfall13_filling_a_placeholder_is_no_correction() -> None:
    known = PlacementFacts(Mode.SPOT, "t3.medium", "unknown", "us-east-1")

    merged = merge_facts(known, PlacementFacts(Mode.SPOT, "t3.medium", "us-east-1b", "us-east-1"))

    assert merged.facts.pool_id == "t3.medium.us-east-1b"
    assert merged.corrected == ()


def test_pitfall13_first_report_is_taken_as_is_but_builds_no_pool_from_placeholders() -> None:
    reported = PlacementFacts(Mode.SPOT, "t3.medium", "unknown", "us-east-1")

    merged = merge_facts(None, reported)

    assert merged.facts == reported
    assert merged.facts.pool_id is None


FACT_VALUES = st.sampled_from(["unknown", "", "  ", "t3.medium", "us-east-1a", "us-east-1b", "m5.large"]) | st.none()
FACTS = st.builds(PlacementFacts, st.sampled_from(list(Mode)), FACT_VALUES, FACT_VALUES, FACT_VALUES)


@given(known=FACTS, reported=FACTS)
def test_pitfall13_property_merge_never_loses_a_known_fact(known: PlacementFacts, reported: PlacementFacts) -> None:
    merged = merge_facts(known, reported).facts

    for name in ("mode", "instance_type", "az", "region"):
        value = getattr(merged, name)
        assert value in (getattr(known, name), getattr(reported, name))
        if value in (None, "unknown", "", "  ", Mode.UNKNOWN):
            assert getattr(known, name) == value
    assert merged.pool_id is None or "unknown" not in merged.pool_id


@given(facts=FACTS)
def test_pitfall13_property_placeholder_facts_never_match_a_spot_command(facts: PlacementFacts) -> None:
    matches = command_targets(make_delivered(), facts)

    assert matches == (facts.mode is Mode.SPOT and facts.instance_type == "t3.medium" and facts.az == "us-east-1b")
