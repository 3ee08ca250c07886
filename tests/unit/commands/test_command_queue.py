"""Command queue rules: domain §2.5 CM-1 … CM-11, §3.4 K1 … K12 (pitfall 3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.command import AgentCommand
from spotopt.domain.commands.queue import (
    COMPLETED_WITHOUT_ACK_MESSAGE,
    NOT_ACKNOWLEDGED_MESSAGE,
    CancelReason,
    Delivery,
    acknowledge,
    next_deliverable,
    queue_key,
    sweep,
)
from spotopt.domain.commands.switch_planning import make_switch_command, plan_switch
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError
from spotopt.domain.shared.ids import AgentId, ClientId, CommandId, InstanceId
from spotopt.domain.shared.pools import Mode

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRIMARY = InstanceId("i-0123456789abcdef0")
OLD_PRIMARY = InstanceId("i-0fedcba987654321f")
CURRENT_POOL = "t3.medium.us-east-1a"
OTHER_POOL = "t3.medium.us-east-1b"
AGENT = AgentId("agent-1")
CLIENT = ClientId("client-1")


def make_command(**overrides: Any) -> AgentCommand:
    values: dict[str, Any] = {
        "command_id": CommandId("c-1"),
        "client_id": CLIENT,
        "agent_id": AGENT,
        "type": CommandType.SWITCH,
        "target_mode": Mode.SPOT,
        "target_pool_id": OTHER_POOL,
        "terminate_wait_seconds": 0,
        "priority": 25,
        "origin": CommandOrigin.AUTOMATIC,
        "target_instance_id": PRIMARY,
        "created_at": T0,
        "expires_at": T0 + timedelta(minutes=15),
    }
    values.update(overrides)
    return AgentCommand(**values)


def make_delivered(delivered_at: datetime = T0, count: int = 1, **overrides: Any) -> AgentCommand:
    command = make_command(**overrides)
    for _ in range(count):
        command.deliver(delivered_at)
    return command


def make_agent(**overrides: Any) -> Agent:
    values: dict[str, Any] = {
        "agent_id": AGENT,
        "client_id": CLIENT,
        "logical_agent_id": "web-1",
        "created_at": T0,
        "updated_at": T0,
        "primary_instance_id": PRIMARY,
        "instance_type": "t3.medium",
        "region": "us-east-1",
        "az": "us-east-1a",
        "mode": Mode.SPOT,
        "pool_id": CURRENT_POOL,
    }
    values.update(overrides)
    return Agent(**values)


def poll(commands: list[AgentCommand], now: datetime = T0, **overrides: Any) -> Delivery:
    kwargs: dict[str, Any] = {
        "now": now,
        "enabled": True,
        "primary_instance_id": PRIMARY,
        "current_mode": Mode.SPOT,
        "current_pool_id": CURRENT_POOL,
    }
    kwargs.update(overrides)
    return next_deliverable(commands, **kwargs)


# --- next_deliverable: the exhaustive table -------------------------------------------------------------------------


@dataclass(frozen=True)
class PollCase:
    commands: Callable[[], list[AgentCommand]]
    handed_out: str | None
    cancelled: dict[str, CancelReason] = field(default_factory=dict)
    now: datetime = T0
    poll: dict[str, Any] = field(default_factory=dict)


def _cid(value: str) -> CommandId:
    return CommandId(value)


LEASED_UNTIL = T0 + timedelta(seconds=420)
AFTER_LEASE = LEASED_UNTIL + timedelta(seconds=1)

POLL_CASES = {
    "domain_k4_a_pending_head_is_handed_out": PollCase(lambda: [make_command()], "c-1"),
    "domain_k4_nothing_queued_hands_out_nothing": PollCase(list, None),
    "cm4_higher_priority_first": PollCase(
        lambda: [make_command(command_id=_cid("low")), make_command(command_id=_cid("high"), priority=50)], "high"
    ),
    "cm4_older_first_at_equal_priority": PollCase(
        lambda: [
            make_command(command_id=_cid("a-new"), created_at=T0 - timedelta(seconds=1)),
            make_command(command_id=_cid("b-old"), created_at=T0 - timedelta(seconds=2)),
        ],
        "b-old",
    ),
    "cm4_command_id_breaks_a_full_tie": PollCase(
        lambda: [make_command(command_id=_cid("c-2")), make_command(command_id=_cid("c-1"))], "c-1"
    ),
    "cm4_terminal_commands_are_ignored": PollCase(
        lambda: [make_command(status=CommandStatus.COMPLETED), make_command(command_id=_cid("c-2"))], "c-2"
    ),
    "cm4_one_in_flight_holds_back_the_queue": PollCase(
        lambda: [
            make_delivered(command_id=_cid("flying"), origin=CommandOrigin.MANUAL),
            make_command(command_id=_cid("next"), origin=CommandOrigin.EMERGENCY, priority=100),
        ],
        None,
        now=LEASED_UNTIL - timedelta(seconds=1),
    ),
    "cm3_a_repeat_inside_the_lease_hands_out_nothing": PollCase(
        lambda: [make_delivered()], None, now=LEASED_UNTIL - timedelta(seconds=1)
    ),
    "cm4_pinned_command_holds_back_a_non_emergency_command": PollCase(
        lambda: [_pinned(make_delivered(command_id=_cid("pinned"))), make_command(command_id=_cid("next"))],
        None,
        now=AFTER_LEASE,
    ),
    "cm4_emergency_is_never_held_back_by_a_pinned_command": PollCase(
        lambda: [
            _pinned(make_delivered(command_id=_cid("pinned"))),
            make_command(command_id=_cid("sos"), origin=CommandOrigin.EMERGENCY, priority=100),
        ],
        "sos",
        now=T0 + timedelta(seconds=10),
    ),
    "cm4_emergency_is_held_back_by_an_unexpired_unpinned_lease": PollCase(
        lambda: [
            make_delivered(command_id=_cid("flying")),
            make_command(command_id=_cid("sos"), origin=CommandOrigin.EMERGENCY, priority=100),
        ],
        None,
        now=T0 + timedelta(seconds=10),
    ),
    "cm9_pinned_command_is_never_handed_out_again": PollCase(
        lambda: [_pinned(make_delivered())], None, now=T0 + timedelta(hours=1)
    ),
    "domain_k5_expired_unpinned_lease_is_handed_out_again": PollCase(
        lambda: [make_delivered()], "c-1", now=AFTER_LEASE
    ),
    "domain_k5_redelivery_ignores_the_ttl": PollCase(
        lambda: [make_delivered(expires_at=T0 + timedelta(seconds=1))], "c-1", now=AFTER_LEASE
    ),
    "domain_k5_third_delivery_is_the_last": PollCase(lambda: [make_delivered(count=3)], None, now=AFTER_LEASE),
    "domain_k5_exhausted_command_does_not_hold_the_queue": PollCase(
        lambda: [
            make_delivered(count=3, command_id=_cid("spent")),
            make_command(command_id=_cid("sos"), origin=CommandOrigin.EMERGENCY, priority=100, created_at=T0),
        ],
        "sos",
        now=AFTER_LEASE,
    ),
    "domain_k3_expired_head_is_cancelled_and_the_next_head_delivered": PollCase(
        lambda: [
            make_command(command_id=_cid("stale"), priority=50, expires_at=T0),
            make_command(command_id=_cid("fresh")),
        ],
        "fresh",
        {"stale": CancelReason.EXPIRED},
    ),
    "domain_k4_not_expired_one_second_before_expires_at": PollCase(
        lambda: [make_command(expires_at=T0 + timedelta(seconds=1))], "c-1"
    ),
    "domain_k3_expired_emergency_is_cancelled_at_delivery": PollCase(
        lambda: [make_command(origin=CommandOrigin.EMERGENCY, priority=100, expires_at=T0)],
        None,
        {"c-1": CancelReason.EXPIRED},
    ),
    "cm10_primary_changed_since_creation_cancels_the_head": PollCase(
        lambda: [
            make_command(command_id=_cid("old"), priority=50, target_instance_id=OLD_PRIMARY),
            make_command(command_id=_cid("current")),
        ],
        "current",
        {"old": CancelReason.PRIMARY_CHANGED},
    ),
    "cm10_no_primary_any_more_cancels_the_head": PollCase(
        lambda: [make_command()], None, {"c-1": CancelReason.PRIMARY_CHANGED}, poll={"primary_instance_id": None}
    ),
    "cm10_applies_at_redelivery": PollCase(
        lambda: [make_delivered(target_instance_id=OLD_PRIMARY)],
        None,
        {"c-1": CancelReason.PRIMARY_CHANGED},
        now=AFTER_LEASE,
    ),
    "domain_k3_spot_target_equal_to_placement_is_cancelled": PollCase(
        lambda: [make_command(target_pool_id=CURRENT_POOL)], None, {"c-1": CancelReason.ALREADY_IN_TARGET}
    ),
    "domain_k3_ondemand_target_while_on_demand_is_cancelled": PollCase(
        lambda: [make_command(target_mode=Mode.ONDEMAND, target_pool_id=None)],
        None,
        {"c-1": CancelReason.ALREADY_IN_TARGET},
        poll={"current_mode": Mode.ONDEMAND, "current_pool_id": None},
    ),
    "cm1_target_equal_to_placement_applies_at_redelivery": PollCase(
        lambda: [make_delivered(target_pool_id=CURRENT_POOL)],
        None,
        {"c-1": CancelReason.ALREADY_IN_TARGET},
        now=AFTER_LEASE,
    ),
    "domain_k3_every_stale_head_is_cancelled_before_the_hand_out": PollCase(
        lambda: [
            make_command(command_id=_cid("expired"), priority=75, expires_at=T0),
            make_command(command_id=_cid("moved"), priority=50, target_instance_id=OLD_PRIMARY),
            make_command(command_id=_cid("there"), priority=40, target_pool_id=CURRENT_POOL),
            make_command(command_id=_cid("good"), priority=30),
            make_command(command_id=_cid("later"), priority=10, expires_at=T0),
        ],
        "good",
        {
            "expired": CancelReason.EXPIRED,
            "moved": CancelReason.PRIMARY_CHANGED,
            "there": CancelReason.ALREADY_IN_TARGET,
        },
    ),
    "domain_k4_disabled_agent_gets_no_ordinary_command": PollCase(
        lambda: [make_command()], None, poll={"enabled": False}
    ),
    "domain_k4_disabled_agent_still_gets_the_emergency_command": PollCase(
        lambda: [make_command(command_id=_cid("plain"), created_at=T0 - timedelta(minutes=1)), _emergency("sos")],
        "sos",
        poll={"enabled": False},
    ),
    "domain_k4_disabled_agent_keeps_its_stale_ordinary_command": PollCase(
        lambda: [make_command(expires_at=T0)], None, poll={"enabled": False}
    ),
    "cm11_no_switch_for_a_poll_from_a_non_primary_instance": PollCase(
        lambda: [_emergency("sos")], None, poll={"poll_from_non_primary": True}
    ),
    "cm11_create_replica_may_go_to_a_non_primary_poll": PollCase(
        lambda: [make_command(type=CommandType.CREATE_REPLICA, target_pool_id=CURRENT_POOL)],
        "c-1",
        poll={"poll_from_non_primary": True},
    ),
}


def _pinned(command: AgentCommand) -> AgentCommand:
    command.pin(command.delivered_at or T0)
    return command


def _emergency(command_id: str) -> AgentCommand:
    return make_command(
        command_id=_cid(command_id),
        origin=CommandOrigin.EMERGENCY,
        priority=100,
        target_mode=Mode.ONDEMAND,
        target_pool_id=None,
    )


@pytest.mark.parametrize("case", POLL_CASES.values(), ids=POLL_CASES.keys())
def test_next_deliverable_table(case: PollCase) -> None:
    commands = case.commands()
    before = {c.command_id: (c.status, c.delivery_count) for c in commands}

    delivery = poll(commands, case.now, **case.poll)

    handed_out = delivery.command.command_id if delivery.command else None
    assert handed_out == case.handed_out
    assert {c.command.command_id: c.reason for c in delivery.cancelled} == case.cancelled
    changed = {c.command_id for c in delivery.changed}
    for command in commands:
        if command.command_id in changed:
            continue
        assert (command.status, command.delivery_count) == before[command.command_id]
    for cancellation in delivery.cancelled:
        assert cancellation.command.status is CommandStatus.CANCELLED
        assert cancellation.command.cancel_reason == cancellation.reason
        assert cancellation.command.cancelled_at == case.now


def test_domain_k4_first_delivery_sets_delivered_at_lease_and_count() -> None:
    command = make_command()

    poll([command], T0)

    assert command.status is CommandStatus.DELIVERED
    assert command.delivered_at == T0
    assert command.lease_expires_at == T0 + timedelta(seconds=420)
    assert command.delivery_count == 1


def test_domain_k5_redelivery_keeps_delivered_at_and_counts_up() -> None:
    command = make_delivered()

    poll([command], AFTER_LEASE)

    assert command.delivered_at == T0
    assert command.delivery_count == 2
    assert command.lease_expires_at == AFTER_LEASE + timedelta(seconds=420)


@pytest.mark.parametrize(
    ("overrides", "base", "seconds"),
    [
        pytest.param({"terminate_wait_seconds": 0}, 120, 420, id="cm3_switch_wait_0_lease_is_120_plus_300"),
        pytest.param({"terminate_wait_seconds": 300}, 120, 1020, id="cm3_switch_wait_300_adds_wait_plus_300"),
        pytest.param({"type": CommandType.CREATE_REPLICA}, 120, 720, id="cm3_create_replica_lease_is_120_plus_600"),
        pytest.param({"terminate_wait_seconds": 0}, 60, 360, id="cm3_base_lease_is_configurable"),
    ],
)
def test_cm3_lease_formula(overrides: dict[str, Any], base: int, seconds: int) -> None:
    command = make_command(**overrides)

    delivery = poll([command], T0, base_lease_seconds=base)

    assert delivery.command is command
    assert command.lease_expires_at == T0 + timedelta(seconds=seconds)


@given(wait=st.integers(0, 3600), base=st.integers(1, 600))
def test_cm3_lease_property_covers_launch_and_termination_budgets(wait: int, base: int) -> None:
    command = make_command(terminate_wait_seconds=wait)

    poll([command], T0, base_lease_seconds=base)

    extra = wait + 300 if wait > 0 else 0
    assert command.lease_expires_at == T0 + timedelta(seconds=base + 300 + extra)


@given(
    specs=st.lists(
        st.tuples(st.integers(1, 100), st.integers(0, 5), st.sampled_from(["a", "b", "c", "d"])),
        min_size=1,
        max_size=6,
        unique_by=lambda spec: spec[2],
    )
)
def test_cm4_property_hands_out_exactly_the_queue_head(specs: list[tuple[int, int, str]]) -> None:
    commands = [
        make_command(command_id=_cid(cid), priority=priority, created_at=T0 - timedelta(seconds=age))
        for priority, age, cid in specs
    ]
    head = min(commands, key=queue_key)

    delivery = poll(commands, T0)

    assert delivery.command is head
    assert [c for c in commands if c.status is CommandStatus.DELIVERED] == [head]


# --- plan_switch (K1, K2, CM-1, CM-2, CM-7) ---------------------------------------------------------------------------


def plan(
    existing: list[AgentCommand], new: AgentCommand, mode: Mode = Mode.SPOT, pool: str | None = CURRENT_POOL
) -> Any:
    return plan_switch(existing, new, current_mode=mode, current_pool_id=pool)


@pytest.mark.parametrize("old_priority", [10, 25], ids=["lower", "equal"])
def test_cm2_new_switch_supersedes_an_older_pending_one_of_lower_or_equal_priority(old_priority: int) -> None:
    old = make_command(command_id=_cid("old"), priority=old_priority, created_at=T0 - timedelta(minutes=1))
    new = make_command(command_id=_cid("new"), priority=25)

    result = plan([old], new)

    assert result.created is True
    assert result.command is new
    assert result.superseded == (old,)
    assert old.status is CommandStatus.SUPERSEDED
    assert old.superseded_by == "new"
    assert old.completed_at == T0
    assert new.superseded_command_id == "old"
    assert new.status is CommandStatus.PENDING


def test_cm2_higher_priority_pending_switch_refuses_the_new_one() -> None:
    old = make_command(command_id=_cid("old"), priority=75, origin=CommandOrigin.MANUAL)
    new = make_command(command_id=_cid("new"), priority=50)

    with pytest.raises(RuleConflictError) as caught:
        plan([old], new)

    assert caught.value.code == "switch_pending"
    assert caught.value.detail == {"command_id": "old", "priority": 75}
    assert old.status is CommandStatus.PENDING
    assert new.superseded_command_id is None


@pytest.mark.parametrize("pinned", [False, True], ids=["unpinned", "pinned"])
def test_cm2_delivered_switch_refuses_a_new_one(pinned: bool) -> None:
    flying = make_delivered(command_id=_cid("flying"))
    if pinned:
        flying.pin(T0)
    new = make_command(command_id=_cid("new"), priority=75, origin=CommandOrigin.MANUAL)

    with pytest.raises(RuleConflictError) as caught:
        plan([flying], new)

    assert caught.value.code == "switch_in_flight"
    assert caught.value.detail == {"command_id": "flying"}


def test_cm2_emergency_fallback_is_queued_beside_a_delivered_switch_and_supersedes_pending() -> None:
    flying = make_delivered(command_id=_cid("flying"))
    pending = make_command(command_id=_cid("pending"), priority=75)
    sos = _emergency("sos")

    result = plan([flying, pending], sos)

    assert result.created is True
    assert result.superseded == (pending,)
    assert flying.status is CommandStatus.DELIVERED


def test_cm2_terminal_and_create_replica_commands_do_not_count() -> None:
    existing = [
        make_command(command_id=_cid("done"), status=CommandStatus.COMPLETED),
        make_command(command_id=_cid("replica"), type=CommandType.CREATE_REPLICA, priority=100),
    ]

    result = plan(existing, make_command(command_id=_cid("new")))

    assert result.created is True
    assert result.superseded == ()


def test_cm7_same_idempotency_key_returns_the_existing_command() -> None:
    existing = make_command(command_id=_cid("first"), idempotency_key="k", status=CommandStatus.COMPLETED)
    repeat = make_command(command_id=_cid("second"), idempotency_key="k", target_pool_id=CURRENT_POOL)

    result = plan([existing], repeat)

    assert result.created is False
    assert result.command is existing
    assert result.superseded == ()


def test_cm7_a_key_of_another_agent_is_not_a_replay() -> None:
    foreign = make_command(command_id=_cid("foreign"), agent_id=AgentId("agent-2"), idempotency_key="k")

    result = plan([foreign], make_command(command_id=_cid("new"), idempotency_key="k"))

    assert result.created is True
    assert foreign.status is CommandStatus.PENDING


@pytest.mark.parametrize(
    ("target_mode", "target_pool", "mode", "pool"),
    [
        pytest.param(Mode.SPOT, CURRENT_POOL, Mode.SPOT, CURRENT_POOL, id="spot_same_pool"),
        pytest.param(Mode.ONDEMAND, None, Mode.ONDEMAND, None, id="ondemand_while_ondemand"),
    ],
)
def test_cm1_target_equal_to_the_placement_is_refused(
    target_mode: Mode, target_pool: str | None, mode: Mode, pool: str | None
) -> None:
    new = make_command(target_mode=target_mode, target_pool_id=target_pool)

    with pytest.raises(RuleConflictError) as caught:
        plan([], new, mode, pool)

    assert caught.value.code == "already_in_target"


def test_k1_plan_switch_refuses_to_plan_a_create_replica_command() -> None:
    with pytest.raises(InvalidValueError):
        plan([], make_command(type=CommandType.CREATE_REPLICA))


# --- acknowledge (K7, K8, K10, K11, CM-8) -----------------------------------------------------------------------------


def test_domain_k7_success_ack_completes_the_delivered_command() -> None:
    command = make_delivered()
    now = T0 + timedelta(minutes=2)

    outcome = acknowledge(command, success=True, message="Switch completed", result={"x": 1}, now=now)

    assert (outcome.rule, outcome.changed, outcome.conflict) == ("K7", True, False)
    assert command.status is CommandStatus.COMPLETED
    assert (command.acked_at, command.completed_at) == (now, now)
    assert (command.success, command.message, command.result) == (True, "Switch completed", {"x": 1})


def test_domain_k8_failure_ack_fails_the_delivered_command() -> None:
    command = make_delivered()

    outcome = acknowledge(command, success=False, message="Switch failed", result=None, now=T0)

    assert (outcome.rule, outcome.changed) == ("K8", True)
    assert command.status is CommandStatus.FAILED
    assert (command.success, command.message, command.acked_at) == (False, "Switch failed", T0)


@pytest.mark.parametrize(
    ("first", "second", "conflict"),
    [
        pytest.param(True, True, False, id="cm8_identical_success_repeat"),
        pytest.param(False, False, False, id="cm8_identical_failure_repeat"),
        pytest.param(True, False, True, id="cm8_failure_after_success_is_a_conflict"),
        pytest.param(False, True, True, id="cm8_success_after_failure_is_a_conflict"),
    ],
)
def test_domain_k10_repeated_ack_changes_nothing(first: bool, second: bool, conflict: bool) -> None:
    command = make_delivered()
    acknowledge(command, success=first, message="first", result=None, now=T0)
    recorded = (command.status, command.message, command.acked_at, command.success)

    outcome = acknowledge(command, success=second, message="second", result=None, now=T0 + timedelta(hours=1))

    assert (outcome.rule, outcome.changed, outcome.conflict) == ("K10", False, conflict)
    assert (command.status, command.message, command.acked_at, command.success) == recorded


@pytest.mark.parametrize(
    ("status", "message", "success", "conflict"),
    [
        pytest.param(CommandStatus.FAILED, NOT_ACKNOWLEDGED_MESSAGE, True, True, id="after_k6_success_conflicts"),
        pytest.param(CommandStatus.FAILED, NOT_ACKNOWLEDGED_MESSAGE, False, False, id="after_k6_failure_agrees"),
        pytest.param(CommandStatus.COMPLETED, COMPLETED_WITHOUT_ACK_MESSAGE, True, False, id="after_k9_success"),
        pytest.param(CommandStatus.COMPLETED, "completed by switch report", True, False, id="after_k12_success"),
        pytest.param(CommandStatus.COMPLETED, COMPLETED_WITHOUT_ACK_MESSAGE, False, True, id="after_k9_failure"),
        pytest.param(CommandStatus.CANCELLED, None, True, True, id="after_cancellation"),
        pytest.param(CommandStatus.SUPERSEDED, None, False, True, id="after_supersession"),
    ],
)
def test_domain_k10_late_ack_on_a_terminal_command_is_recorded_nowhere(
    status: CommandStatus, message: str | None, success: bool, conflict: bool
) -> None:
    command = make_delivered()
    command.status, command.message = status, message

    outcome = acknowledge(command, success=success, message="late", result=None, now=T0)

    assert (outcome.changed, outcome.conflict) == (False, conflict)
    assert (command.status, command.message, command.acked_at) == (status, message, None)


def test_domain_k11_ack_of_a_pending_command_is_a_not_delivered_conflict() -> None:
    command = make_command()

    with pytest.raises(RuleConflictError) as caught:
        acknowledge(command, success=True, message=None, result=None, now=T0)

    assert caught.value.code == "not_delivered"
    assert command.status is CommandStatus.PENDING


# --- sweep (K3, K6, K9) -----------------------------------------------------------------------------------------------


def test_domain_k3_sweeper_cancels_pending_commands_past_expires_at() -> None:
    expired = make_command(command_id=_cid("expired"), expires_at=T0)
    alive = make_command(command_id=_cid("alive"), expires_at=T0 + timedelta(seconds=1))

    changes = sweep([expired, alive], T0)

    assert [(c.command.command_id, c.rule) for c in changes] == [("expired", "K3")]
    assert (expired.status, expired.cancel_reason) == (CommandStatus.CANCELLED, "expired")
    assert alive.status is CommandStatus.PENDING


def test_domain_k3_sweeper_never_expires_an_emergency_command_before_expires_at() -> None:
    sos = make_command(origin=CommandOrigin.EMERGENCY, priority=100, expires_at=T0 + timedelta(seconds=180))

    assert sweep([sos], T0 + timedelta(seconds=179)) == []
    assert [c.rule for c in sweep([sos], T0 + timedelta(seconds=180))] == ["K3"]


def test_domain_k3_sweeper_never_cancels_a_delivered_command() -> None:
    command = make_delivered(expires_at=T0 + timedelta(seconds=1))

    assert sweep([command], T0 + timedelta(minutes=1)) == []
    assert command.status is CommandStatus.DELIVERED


@pytest.mark.parametrize(
    ("count", "pinned", "now", "fails"),
    [
        pytest.param(3, False, AFTER_LEASE, True, id="k6_three_deliveries_lease_over"),
        pytest.param(3, False, LEASED_UNTIL, True, id="k6_at_the_lease_end"),
        pytest.param(3, False, LEASED_UNTIL - timedelta(seconds=1), False, id="k6_not_while_leased"),
        pytest.param(2, False, AFTER_LEASE, False, id="k6_not_before_the_third_delivery"),
        pytest.param(3, True, AFTER_LEASE, False, id="k6_not_when_pinned"),
    ],
)
def test_domain_k6_unacknowledged_after_three_deliveries_fails(
    count: int, pinned: bool, now: datetime, fails: bool
) -> None:
    command = make_delivered(count=count)
    if pinned:
        command.pin(T0)

    changes = sweep([command], now)

    assert [c.rule for c in changes] == (["K6"] if fails else [])
    if fails:
        assert (command.status, command.message) == (CommandStatus.FAILED, NOT_ACKNOWLEDGED_MESSAGE)
    else:
        assert command.status is CommandStatus.DELIVERED


@pytest.mark.parametrize(
    ("age", "completes"),
    [
        pytest.param(timedelta(hours=2) - timedelta(seconds=1), False, id="k9_not_before_2h"),
        pytest.param(timedelta(hours=2), True, id="k9_at_2h"),
    ],
)
def test_domain_k9_pinned_without_ack_completes_after_two_hours(age: timedelta, completes: bool) -> None:
    command = make_delivered()
    pinned_at = T0 + timedelta(minutes=3)
    command.pin(pinned_at)

    changes = sweep([command], pinned_at + age)

    assert [c.rule for c in changes] == (["K9"] if completes else [])
    expected = (
        (CommandStatus.COMPLETED, COMPLETED_WITHOUT_ACK_MESSAGE) if completes else (CommandStatus.DELIVERED, None)
    )
    assert (command.status, command.message) == expected


def test_domain_k3_k6_k9_a_second_sweep_is_a_no_op_and_never_hands_out() -> None:
    pending = make_command(command_id=_cid("pending"), expires_at=T0 + timedelta(hours=5))
    commands = [pending, make_delivered(command_id=_cid("spent"), count=3), make_command(command_id=_cid("old"))]
    now = T0 + timedelta(hours=1)

    first = sweep(commands, now)

    assert sorted(c.rule for c in first) == ["K3", "K6"]
    assert sweep(commands, now) == []
    assert (pending.status, pending.delivery_count) == (CommandStatus.PENDING, 0)


# --- make_switch_command (K1, CM-5, §2.5 priorities) ------------------------------------------------------------------


def build(agent: Agent | None = None, **overrides: Any) -> AgentCommand:
    kwargs: dict[str, Any] = {
        "origin": CommandOrigin.AUTOMATIC,
        "target_mode": Mode.SPOT,
        "target_pool_id": OTHER_POOL,
        "now": T0,
    }
    kwargs.update(overrides)
    return make_switch_command(agent or make_agent(), **kwargs)


@pytest.mark.parametrize(
    ("auto_terminate", "origin", "wait"),
    [
        pytest.param(True, CommandOrigin.MANUAL, 600, id="cm5_wait_of_the_agent_when_auto_terminate"),
        pytest.param(False, CommandOrigin.MANUAL, 0, id="cm5_zero_when_auto_terminate_is_off"),
        pytest.param(True, CommandOrigin.EMERGENCY, 0, id="cm5_emergency_fallback_carries_zero"),
    ],
)
def test_cm5_terminate_wait(auto_terminate: bool, origin: CommandOrigin, wait: int) -> None:
    agent = make_agent(auto_terminate_enabled=auto_terminate, terminate_wait_seconds=600)

    command = build(agent, origin=origin, target_mode=Mode.ONDEMAND, target_pool_id=None, deadline=T0)

    assert command.terminate_wait_seconds == wait


@pytest.mark.parametrize(
    ("origin", "ttl"),
    [
        pytest.param(CommandOrigin.AUTOMATIC, timedelta(minutes=15), id="k1_automatic_15_min"),
        pytest.param(CommandOrigin.API, timedelta(hours=1), id="k1_api_1_h"),
        pytest.param(CommandOrigin.MANUAL, timedelta(hours=24), id="k1_manual_24_h"),
    ],
)
def test_domain_k1_ttl_per_origin(origin: CommandOrigin, ttl: timedelta) -> None:
    assert build(origin=origin).expires_at == T0 + ttl


def test_domain_k1_emergency_expires_60_s_after_the_deadline() -> None:
    deadline = T0 + timedelta(seconds=120)

    command = build(origin=CommandOrigin.EMERGENCY, target_mode=Mode.ONDEMAND, target_pool_id=None, deadline=deadline)

    assert command.expires_at == deadline + timedelta(seconds=60)
    assert (command.priority, command.target_pool_id, command.status) == (100, None, CommandStatus.PENDING)


def test_domain_k1_emergency_without_deadline_is_invalid() -> None:
    with pytest.raises(InvalidValueError):
        build(origin=CommandOrigin.EMERGENCY, target_mode=Mode.ONDEMAND, target_pool_id=None)


@pytest.mark.parametrize(
    ("origin", "priority", "motive", "expected"),
    [
        pytest.param(CommandOrigin.MANUAL, None, None, 75, id="manual_75"),
        pytest.param(CommandOrigin.API, None, None, 25, id="api_default_25"),
        pytest.param(CommandOrigin.API, 1, None, 1, id="api_lowest_1"),
        pytest.param(CommandOrigin.API, 75, None, 75, id="api_highest_75"),
        pytest.param(CommandOrigin.AUTOMATIC, None, "risk", 50, id="automatic_risk_50"),
        pytest.param(CommandOrigin.AUTOMATIC, None, "savings", 25, id="automatic_savings_25"),
        pytest.param(CommandOrigin.AUTOMATIC, None, "return_to_spot", 25, id="automatic_return_to_spot_25"),
        pytest.param(CommandOrigin.AUTOMATIC, None, "scheduled", 10, id="automatic_scheduled_10"),
    ],
)
def test_cm_priorities_per_origin(
    origin: CommandOrigin, priority: int | None, motive: str | None, expected: int
) -> None:
    assert build(origin=origin, priority=priority, motive=motive).priority == expected


@pytest.mark.parametrize(
    ("origin", "priority"),
    [
        pytest.param(CommandOrigin.API, 0, id="api_below_1"),
        pytest.param(CommandOrigin.API, 76, id="api_above_75"),
        pytest.param(CommandOrigin.AUTOMATIC, 75, id="automatic_never_reaches_manual"),
        pytest.param(CommandOrigin.MANUAL, 50, id="manual_is_fixed"),
    ],
)
def test_cm_priorities_out_of_range_are_invalid(origin: CommandOrigin, priority: int) -> None:
    with pytest.raises(InvalidValueError):
        build(origin=origin, priority=priority)


@pytest.mark.parametrize(
    ("mode", "pool"),
    [
        pytest.param(Mode.SPOT, None, id="spot_without_pool"),
        pytest.param(Mode.SPOT, "nodot", id="spot_with_malformed_pool"),
        pytest.param(Mode.SPOT, "t3.medium.unknown", id="spot_with_placeholder_az"),
        pytest.param(Mode.ONDEMAND, OTHER_POOL, id="ondemand_with_pool"),
        pytest.param(Mode.UNKNOWN, None, id="unknown_mode"),
    ],
)
def test_cm1_target_shape_is_validated(mode: Mode, pool: str | None) -> None:
    with pytest.raises(InvalidValueError):
        build(target_mode=mode, target_pool_id=pool)


def test_domain_k1_command_targets_the_current_primary_and_carries_its_context() -> None:
    command = build(origin=CommandOrigin.API, reason="why", idempotency_key="k", decision_id="d-1")

    assert command.target_instance_id == PRIMARY
    assert (command.client_id, command.agent_id, command.type) == (CLIENT, AGENT, CommandType.SWITCH)
    assert (command.reason, command.idempotency_key, command.decision_id) == ("why", "k", "d-1")
    assert command.created_at == T0


# --- stateful property: any interleaving of create / poll / ack / execute / sweep / time ------------------------------

POOLS = [CURRENT_POOL, OTHER_POOL, "t3.medium.us-east-1c", None]
NEW_PRIMARIES = [InstanceId(f"i-0000000{n}") for n in range(10)]


class CommandQueueMachine(RuleBasedStateMachine):
    """CM-2, CM-3/CM-4, CM-9, K6 and W19 under arbitrary interleavings with advancing time."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.commands: list[AgentCommand] = []
        self.primary: InstanceId | None = PRIMARY
        self.mode = Mode.SPOT
        self.pool: str | None = CURRENT_POOL
        self.enabled = True
        self.handed_out: Counter[str] = Counter()
        self.acked: set[str] = set()
        self.emergency_created = False
        self.sequence = 0

    def _agent(self) -> Agent:
        return make_agent(primary_instance_id=self.primary, mode=self.mode, pool_id=self.pool)

    @rule(
        origin=st.sampled_from(list(CommandOrigin)),
        pool=st.sampled_from(POOLS),
        priority=st.integers(1, 75),
        key=st.sampled_from([None, "k1", "k2"]),
    )
    def create(self, origin: CommandOrigin, pool: str | None, priority: int, key: str | None) -> None:
        self.sequence += 1
        target_mode = Mode.ONDEMAND if pool is None or origin is CommandOrigin.EMERGENCY else Mode.SPOT
        command = make_switch_command(
            self._agent(),
            origin=origin,
            target_mode=target_mode,
            target_pool_id=None if target_mode is Mode.ONDEMAND else pool,
            now=self.now,
            priority=priority if origin is CommandOrigin.API else None,
            idempotency_key=key,
            deadline=self.now + timedelta(seconds=120),
            command_id=CommandId(f"c-{self.sequence:04d}"),
        )
        try:
            result = plan_switch(self.commands, command, current_mode=self.mode, current_pool_id=self.pool)
        except RuleConflictError:
            return
        if result.created:
            self.commands.append(result.command)
            self.emergency_created = self.emergency_created or command.is_emergency

    @initialize()
    def seed(self) -> None:
        self.create(CommandOrigin.AUTOMATIC, OTHER_POOL, 25, None)

    @rule()
    def poll_from_primary(self) -> None:
        self.poll(non_primary=False)

    @rule()
    def poll_after_the_lease_ran_out(self) -> None:
        leases = [c.lease_expires_at for c in self.commands if c.lease_expires_at and c.lease_expires_at > self.now]
        self.now = max(leases, default=self.now) + timedelta(seconds=1)
        self.poll(non_primary=False)

    @rule()
    def poll_from_standby(self) -> None:
        self.poll(non_primary=True)

    def poll(self, *, non_primary: bool) -> None:
        holders = [c for c in self.commands if c.holds_lease(self.now)]
        unpinned_lease = any(not c.lease_pinned for c in holders)
        acked_before = set(self.acked)

        delivery = next_deliverable(
            self.commands,
            now=self.now,
            enabled=self.enabled,
            primary_instance_id=self.primary,
            current_mode=self.mode,
            current_pool_id=self.pool,
            poll_from_non_primary=non_primary,
        )

        assert all(not c.command.lease_pinned for c in delivery.cancelled)
        command = delivery.command
        if command is None:
            return
        assert not unpinned_lease
        assert not holders or command.is_emergency
        assert command.command_id not in acked_before
        assert not command.lease_pinned
        assert self.enabled or command.is_emergency
        assert not non_primary
        self.handed_out[command.command_id] += 1
        assert self.handed_out[command.command_id] == command.delivery_count <= 3

    @rule(data=st.data(), success=st.booleans())
    def ack(self, data: st.DataObject, success: bool) -> None:
        if not self.commands:
            return
        command = data.draw(st.sampled_from(self.commands))
        if command.status is CommandStatus.PENDING:
            with pytest.raises(RuleConflictError):
                acknowledge(command, success=success, message=None, result=None, now=self.now)
            return
        acknowledge(command, success=success, message=None, result=None, now=self.now)
        self.acked.add(command.command_id)

    @rule(data=st.data())
    def execute(self, data: st.DataObject) -> None:
        """The agent ran a delivered switch: R-5 pins it and moves the primary to its target."""
        delivered = [c for c in self.commands if c.status is CommandStatus.DELIVERED and not c.lease_pinned]
        if not delivered:
            return
        command = data.draw(st.sampled_from(delivered))
        command.pin(self.now)
        self.primary = data.draw(st.sampled_from(NEW_PRIMARIES))
        self.mode, self.pool = command.target_mode, command.target_pool_id

    @rule()
    def run_sweeper(self) -> None:
        before = {c.command_id: c.status for c in self.commands}
        for change in sweep(self.commands, self.now):
            if change.rule == "K3":
                assert before[change.command.command_id] is CommandStatus.PENDING

    @rule(seconds=st.sampled_from([1, 30, 120, 179, 300, 421, 600, 1021, 7200]))
    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def toggle_enabled(self) -> None:
        self.enabled = not self.enabled

    @invariant()
    def cm2_at_most_one_live_switch(self) -> None:
        live = [c for c in self.commands if c.status in (CommandStatus.PENDING, CommandStatus.DELIVERED)]
        assert len([c for c in live if c.status is CommandStatus.PENDING]) <= 1
        assert len([c for c in live if not c.is_emergency]) <= 1
        if not self.emergency_created:
            assert len(live) <= 1

    @invariant()
    def domain_k6_never_more_than_three_deliveries(self) -> None:
        assert all(c.delivery_count <= 3 for c in self.commands)


TestCommandQueueMachine = CommandQueueMachine.TestCase
TestCommandQueueMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
