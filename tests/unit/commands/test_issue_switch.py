"""A14 through IssueSwitch: K1, CM-1, CM-2, CM-5, CM-6, CM-7, G1-G3 (409) and DP-7 eligibility (422)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.commands.issue_switch import (
    IssueSwitch,
    IssueSwitchCommand,
    IssueSwitchResult,
)
from spotopt.application.errors import NotFoundError
from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.errors import InvalidValueError, RuleConflictError, SettingDisabledError, UnusableTargetError
from spotopt.domain.shared.pools import Mode
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    NOW,
    OTHER,
    PRIMARY,
    D,
    add_signal,
    make_agent,
    make_bucket,
    make_command,
    open_episode,
    seed_market,
    wiring,
)
from tests.fakes.uow import InMemoryUnitOfWork, InScope


async def setup(uow: InMemoryUnitOfWork, **agent: Any) -> None:
    await uow.agents.add(make_agent(**agent))
    await seed_market(uow)


async def issue(uow: InMemoryUnitOfWork, **overrides: Any) -> IssueSwitchResult:
    values: dict[str, Any] = {
        "client_id": CLIENT,
        "agent_id": "agent-1",
        "target_mode": Mode.SPOT,
        "target_pool_id": CHEAP,
    }
    values.update(overrides)
    return await InScope(IssueSwitch(**wiring(uow)).execute, uow).execute(IssueSwitchCommand(**values))


async def test_k1_creates_a_pending_api_switch_with_1h_ttl_default_priority_and_the_primary(
    uow: InMemoryUnitOfWork,
) -> None:
    await setup(uow)
    result = await issue(uow, reason="dashboard", idempotency_key="k-1")
    command = result.command
    assert result.created is True
    assert (command.status, command.origin, command.priority) == (CommandStatus.PENDING, CommandOrigin.API, 25)
    assert (command.target_mode, command.target_pool_id) == (Mode.SPOT, CHEAP)
    assert command.expires_at == NOW + timedelta(hours=1)
    assert command.target_instance_id == PRIMARY
    assert command.terminate_wait_seconds == 300
    assert (command.reason, command.idempotency_key, command.motive) == ("dashboard", "k-1", None)
    assert uow.store.commands == {command.command_id: command}
    assert uow.commits == 1
    assert uow.store.agents["agent-1"].version == 1


async def test_k1_command_created_is_a_system_event_without_notification(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    command = (await issue(uow)).command
    assert uow.event_types() == ["command_created"]
    assert uow.store.events[0].metadata["command_id"] == command.command_id
    assert uow.store.events[0].metadata["origin"] == "api"
    assert uow.store.notifications == {}


async def test_cm5_wait_is_zero_when_auto_terminate_is_off(uow: InMemoryUnitOfWork) -> None:
    await setup(uow, auto_terminate_enabled=False)
    assert (await issue(uow)).command.terminate_wait_seconds == 0


async def test_a14_priority_may_be_set_up_to_75(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    assert (await issue(uow, priority=75)).command.priority == 75


async def test_a14_ondemand_target_needs_no_pool_checks(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    command = (await issue(uow, target_mode=Mode.ONDEMAND, target_pool_id=None)).command
    assert (command.target_mode, command.target_pool_id) == (Mode.ONDEMAND, None)


async def test_cm7_same_idempotency_key_returns_the_existing_command(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    first = await issue(uow, idempotency_key="same")
    again = await issue(uow, idempotency_key="same", target_pool_id=OTHER)
    assert (again.created, again.command) == (False, first.command)
    assert len(uow.store.commands) == 1
    assert uow.commits == 1


async def test_cm7_replay_returns_the_command_even_after_it_ran(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    first = (await issue(uow, idempotency_key="same")).command
    first.deliver(NOW)
    first.complete(NOW, "done")
    again = await issue(uow, idempotency_key="same")
    assert (again.created, again.command.status) == (False, CommandStatus.COMPLETED)


@pytest.mark.parametrize(
    ("flags", "setting", "reason"),
    [
        ({"enabled": False}, "enabled", "agent_disabled"),
        ({"auto_switch_enabled": False, "manual_replica_enabled": True}, "auto_switch_enabled", "auto_switch_disabled"),
        ({"auto_switch_enabled": False}, "auto_switch_enabled", "auto_switch_disabled"),
    ],
    ids=["disabled", "manual-replica", "observe"],
)
async def test_cm6_disabled_settings_refuse_with_setting_disabled(
    uow: InMemoryUnitOfWork, flags: dict[str, bool], setting: str, reason: str
) -> None:
    await setup(uow, **flags)
    with pytest.raises(SettingDisabledError) as refused:
        await issue(uow)
    assert refused.value.code == "setting_disabled"
    assert refused.value.detail == {"setting": setting, "reason": reason}
    assert uow.store.commands == {}


async def test_cm6_open_episode_refuses_with_emergency_in_progress(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    await uow.episodes.add(open_episode(make_agent()))
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow)
    assert refused.value.code == "emergency_in_progress"


@pytest.mark.parametrize(
    ("agent", "target"),
    [
        ({}, {"target_pool_id": CURRENT}),
        ({"mode": Mode.ONDEMAND, "pool_id": None}, {"target_mode": Mode.ONDEMAND, "target_pool_id": None}),
    ],
    ids=["spot", "ondemand"],
)
async def test_cm1_target_equal_to_current_placement_is_already_in_target(
    uow: InMemoryUnitOfWork, agent: dict[str, Any], target: dict[str, Any]
) -> None:
    await setup(uow, **agent)
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow, **target)
    assert refused.value.code == "already_in_target"


async def test_cm2_supersedes_a_pending_switch_of_lower_or_equal_priority(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    old = make_command(make_agent(), target_pool_id=OTHER, priority=25)
    await uow.commands.add(old)
    new = (await issue(uow, priority=25)).command
    assert (old.status, old.superseded_by) == (CommandStatus.SUPERSEDED, new.command_id)
    assert new.superseded_command_id == old.command_id


async def test_cm2_refuses_beside_a_higher_priority_pending_switch(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    old = make_command(make_agent(), target_pool_id=OTHER, priority=50)
    await uow.commands.add(old)
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow, priority=25)
    assert refused.value.code == "switch_pending"
    assert refused.value.detail == {"command_id": old.command_id, "priority": 50}
    assert old.status is CommandStatus.PENDING


async def test_cm2_refuses_while_a_switch_is_delivered(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    old = make_command(make_agent(), target_pool_id=OTHER, status=CommandStatus.DELIVERED, delivered_at=NOW)
    await uow.commands.add(old)
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow, priority=75)
    assert (refused.value.code, refused.value.detail["command_id"]) == ("switch_in_flight", old.command_id)


async def test_g1_via_a14_daily_limit_is_a_conflict_with_retry_after(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    times = [NOW - timedelta(hours=h) for h in (23, 10, 5)]
    for t in times:
        await uow.commands.add(make_command(agent, status=CommandStatus.COMPLETED, delivered_at=t, completed_at=t))
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow)
    assert refused.value.code == "daily_limit_reached"
    assert refused.value.detail == {"retry_after": times[0] + timedelta(hours=24)}


async def test_g2_via_a14_weekly_limit_is_a_conflict(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    agent = make_agent()
    for day in range(2, 7):
        for hour in (1, 3):
            t = NOW - timedelta(days=day, hours=hour)
            await uow.commands.add(make_command(agent, status=CommandStatus.COMPLETED, delivered_at=t, completed_at=t))
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow)
    assert refused.value.code == "weekly_limit_reached"


async def test_g3_via_a14_cooldown_after_a_failed_switch(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    finished = NOW - timedelta(minutes=5)
    await uow.commands.add(
        make_command(make_agent(), status=CommandStatus.FAILED, delivered_at=finished, completed_at=finished)
    )
    with pytest.raises(RuleConflictError) as refused:
        await issue(uow)
    assert refused.value.detail == {"retry_after": finished + timedelta(minutes=30)}
    assert refused.value.code == "cooldown"


async def test_a14_setting_checks_answer_before_the_g3_conflict(uow: InMemoryUnitOfWork) -> None:
    # api §1.5 order: settings (403) come before the state conflicts of G1-G3 (409).
    await setup(uow, enabled=False, last_failover_at=NOW - timedelta(minutes=1))
    with pytest.raises(SettingDisabledError):
        await issue(uow)


@pytest.mark.parametrize(
    ("target", "verdict"),
    [
        ("t3.large.us-east-1b", "other_type_or_region"),
        ("t3.medium.eu-west-1a", "other_type_or_region"),
        ("t3.medium.us-east-1d", "unavailable"),
        ("t3.medium.us-east-1f", "unpriced"),
        ("t3.medium.us-east-1e", "unavailable"),
        (CHEAP, "recent_interruption"),
    ],
    ids=["other-type", "other-region", "not-in-catalogue", "no-price", "not-seen-24h", "blocklisted"],
)
async def test_dp7_via_a14_unusable_target_is_422_with_its_verdict(
    uow: InMemoryUnitOfWork, target: str, verdict: str
) -> None:
    await setup(uow)
    await seed_market(uow, {"t3.medium.us-east-1e": D("0.009")}, last_seen=NOW - timedelta(hours=25))
    await seed_market(uow, {"t3.medium.us-east-1f": D("0.009")})
    uow.store.buckets.clear()
    for pool_id in (CHEAP, OTHER, CURRENT):
        uow.buckets.put(make_bucket(pool_id, D("0.010")))
    await add_signal(uow, CHEAP)
    with pytest.raises(UnusableTargetError) as refused:
        await issue(uow, target_pool_id=target)
    assert (refused.value.code, refused.value.detail) == (verdict, {"pool_id": target})
    assert uow.store.commands == {}


async def test_dp7_via_a14_stale_price_is_unpriced(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    uow.buckets.put(make_bucket(OTHER, D("0.010"), start=NOW - timedelta(hours=6)))
    uow.store.buckets.pop((OTHER, NOW - timedelta(minutes=5)))
    with pytest.raises(UnusableTargetError) as refused:
        await issue(uow, target_pool_id=OTHER)
    assert refused.value.code == "unpriced"


async def test_dp7_via_a14_risk_threshold_is_not_an_api_condition(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    for instance in ("i-00000000000000001", "i-00000000000000002", "i-00000000000000003", "i-00000000000000004"):
        await add_signal(uow, OTHER, instance_id=instance, received_at=NOW - timedelta(days=3))
    for instance in ("i-00000000000000005", "i-00000000000000006"):
        await add_signal(uow, OTHER, kind=SignalKind.REBALANCE, instance_id=instance)
    # Risk 0.05 + 0.05 × T7 (4) + 0.05 × R24 (2) = 0.35 > 0.30, yet A14 checks conditions 1, 2, 4 and 5 only.
    assert (await issue(uow, target_pool_id=OTHER)).created is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_pool_id": None}, "target_pool_id"),
        ({"target_mode": Mode.ONDEMAND}, "target_pool_id"),
        ({"target_mode": Mode.UNKNOWN}, "target_mode"),
        ({"target_pool_id": "nodot"}, "pool_id"),
        ({"priority": 76}, "priority"),
        ({"priority": 0}, "priority"),
        ({"reason": "x" * 501}, "reason"),
        ({"idempotency_key": "k" * 65}, "idempotency_key"),
    ],
)
async def test_a14_invalid_body_is_a_validation_error_before_any_state_check(
    uow: InMemoryUnitOfWork, overrides: dict[str, Any], field: str
) -> None:
    await setup(uow, enabled=False)
    with pytest.raises(InvalidValueError) as refused:
        await issue(uow, **overrides)
    assert refused.value.field == field


async def test_a14_unknown_agent_is_not_found(uow: InMemoryUnitOfWork) -> None:
    await setup(uow)
    with pytest.raises(NotFoundError):
        await issue(uow, agent_id="other")


requests = st.lists(
    st.tuples(
        st.sampled_from([CHEAP, OTHER, None]),
        st.integers(min_value=1, max_value=75),
        st.sampled_from(["a", "b", None]),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


@given(requests=requests)
def test_cm2_cm7_at_most_one_live_switch_and_one_command_per_key(
    requests: list[tuple[str | None, int, str | None, bool]],
) -> None:
    asyncio.run(_issue_all(requests))


async def _issue_all(requests: list[tuple[str | None, int, str | None, bool]]) -> None:
    uow = InMemoryUnitOfWork()
    await setup(uow, thresholds=Thresholds(max_switches_per_day=48, max_switches_per_week=336, cooldown_minutes=0))
    for pool, priority, key, deliver in requests:
        target = {"target_pool_id": pool} if pool else {"target_mode": Mode.ONDEMAND, "target_pool_id": None}
        try:
            command = (await issue(uow, priority=priority, idempotency_key=key, **target)).command
        except RuleConflictError:
            continue
        if deliver and command.status is CommandStatus.PENDING:
            command.deliver(NOW)
        live = [c for c in uow.store.commands.values() if c.status in (CommandStatus.PENDING, CommandStatus.DELIVERED)]
        assert len(live) <= 1
    keys = [c.idempotency_key for c in uow.store.commands.values() if c.idempotency_key is not None]
    assert len(keys) == len(set(keys))
