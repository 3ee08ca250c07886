"""Property (issue 9 "Done when", §7.2 "must never bypass a guard"): over random agent histories the auto-switch
evaluator never queues a command that CM-6, DP-7 or a guard G1 – G6 forbids. The guards are re-derived here from
the raw history with the spec's formulas (§6.2 counters, §6.6), not with the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spotopt.application.decisions.evaluate_auto_switch import EvaluateAutoSwitch, EvaluateAutoSwitchCommand
from spotopt.domain.agents.agent import Thresholds
from spotopt.domain.agents.values import Liveness
from spotopt.domain.commands.values import CommandOrigin, CommandStatus
from spotopt.domain.interruptions.values import SignalKind
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode
from tests.factories.decisions import (
    CHEAP,
    CLIENT,
    CURRENT,
    ENGINE,
    NOW,
    OTHER,
    add_signal,
    make_agent,
    make_command,
    open_episode,
    seed_market,
    wiring,
)
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

POOLS = (CURRENT, CHEAP, OTHER)
MANUAL_PRIORITY = 75
# Mostly finished switches: a pending or delivered one only ever makes the agent skip the tick.
STATUSES = (CommandStatus.COMPLETED,) * 4 + (CommandStatus.FAILED, CommandStatus.PENDING, CommandStatus.DELIVERED)
MOSTLY = st.sampled_from([True] * 9 + [False])
ORIGINS = (CommandOrigin.AUTOMATIC, CommandOrigin.API, CommandOrigin.MANUAL, CommandOrigin.EMERGENCY)


@dataclass(frozen=True)
class PastSwitch:
    origin: CommandOrigin
    status: CommandStatus
    delivered_minutes_ago: int | None
    finished_minutes_ago: int | None


@dataclass(frozen=True)
class History:
    enabled: bool
    auto_switch: bool
    auto_terminate: bool
    online: bool
    ondemand: bool
    episode: bool
    terminate_wait: int
    placement_minutes_ago: int
    failover_minutes_ago: int | None
    thresholds: Thresholds
    prices: dict[str, Decimal]
    switches: tuple[PastSwitch, ...]
    notices: tuple[tuple[str, SignalKind, int], ...]


def _switch() -> st.SearchStrategy[PastSwitch]:
    # Deliveries around the 24 h and 7 d windows' edges and inside them, where G1 and G2 bite.
    minutes = st.integers(min_value=60, max_value=24 * 60 + 60) | st.integers(min_value=1, max_value=8 * 24 * 60)
    return st.builds(
        PastSwitch,
        origin=st.sampled_from(ORIGINS),
        status=st.sampled_from(STATUSES),
        delivered_minutes_ago=st.none() | minutes,
        finished_minutes_ago=st.none() | st.integers(min_value=1, max_value=3 * 60),
    )


def _history() -> st.SearchStrategy[History]:
    price = st.integers(min_value=50, max_value=300).map(lambda n: Decimal(n) / Decimal(10000))
    return st.builds(
        History,
        enabled=MOSTLY,
        auto_switch=MOSTLY,
        auto_terminate=MOSTLY,
        online=MOSTLY,
        ondemand=st.sampled_from([False, False, True]),
        episode=st.sampled_from([False] * 9 + [True]),
        terminate_wait=st.sampled_from([0, 60, 300, 1800, 3600]),
        placement_minutes_ago=st.integers(min_value=1, max_value=48 * 60),
        failover_minutes_ago=st.none() | st.integers(min_value=1, max_value=24 * 60),
        thresholds=st.builds(
            Thresholds,
            min_savings_percent=st.sampled_from([Decimal("0"), Decimal("5"), Decimal("15.00"), Decimal("40")]),
            risk_threshold=st.sampled_from([Decimal("0.05"), Decimal("0.10"), Decimal("0.30"), Decimal("0.90")]),
            max_switches_per_day=st.integers(min_value=1, max_value=4),
            max_switches_per_week=st.integers(min_value=4, max_value=10),
            min_pool_duration_hours=st.integers(min_value=0, max_value=6),
            cooldown_minutes=st.sampled_from([0, 5, 30, 120]),
        ),
        prices=st.fixed_dictionaries(dict.fromkeys(POOLS, price)),
        switches=st.lists(_switch(), max_size=5).map(tuple),
        notices=st.lists(
            st.tuples(
                st.sampled_from(POOLS),
                st.sampled_from([SignalKind.TERMINATION, SignalKind.REBALANCE]),
                st.integers(min_value=1, max_value=10 * 24 * 60),
            ),
            max_size=5,
        ).map(tuple),
    )


def ago(minutes: int | None) -> datetime | None:
    return None if minutes is None else NOW - timedelta(minutes=minutes)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=_history())
async def test_the_evaluator_never_queues_a_command_a_guard_forbids(history: History) -> None:
    uow = InMemoryUnitOfWork()
    agent = make_agent(
        enabled=history.enabled,
        auto_switch_enabled=history.auto_switch,
        auto_terminate_enabled=history.auto_terminate,
        terminate_wait_seconds=history.terminate_wait,
        liveness=Liveness.ONLINE if history.online else Liveness.OFFLINE,
        mode=Mode.ONDEMAND if history.ondemand else Mode.SPOT,
        pool_id=None if history.ondemand else CURRENT,
        placement_since=ago(history.placement_minutes_ago),
        last_failover_at=ago(history.failover_minutes_ago),
        thresholds=history.thresholds,
    )
    await uow.agents.add(agent)
    await seed_market(uow, history.prices)
    for n, past in enumerate(history.switches):
        delivered = ago(past.delivered_minutes_ago)
        done_at = (
            ago(past.finished_minutes_ago) if past.status in (CommandStatus.COMPLETED, CommandStatus.FAILED) else None
        )
        first = min(t for t in (delivered, done_at, NOW - timedelta(minutes=1)) if t is not None)
        await uow.commands.add(
            make_command(
                agent,
                origin=past.origin,
                status=past.status,
                created_at=first - timedelta(minutes=1),
                delivered_at=delivered,
                completed_at=done_at,
                idempotency_key=f"past-{n}",
            )
        )
    for n, (pool, kind, minutes) in enumerate(history.notices):
        await add_signal(uow, pool, kind=kind, instance_id=f"i-{n:017x}", received_at=ago(minutes))
    if history.episode:
        await uow.episodes.add(open_episode(agent))
    await uow.commit_setup()

    deps = wiring(uow, None)
    deps["clock"] = FixedClock(NOW)
    sut = EvaluateAutoSwitch(engine=ENGINE, **deps)
    result = await sut.execute(EvaluateAutoSwitchCommand(client_id=CLIENT, agent_id=AgentId("agent-1"), tick=NOW))
    await uow.close()

    created = [c for c in uow.store.commands.values() if c.idempotency_key and c.idempotency_key.startswith("eval:")]
    event("queued a command" if created else "queued nothing")
    if not created:
        return
    (command,) = created
    event(f"motive {command.motive}")
    assert result.command is not None
    t = history.thresholds
    # CM-6 and the §7.2 inputs.
    assert (history.enabled, history.auto_switch, history.online, history.episode) == (True, True, True, False)
    assert not any(s.status in (CommandStatus.PENDING, CommandStatus.DELIVERED) for s in history.switches)
    assert command.origin is CommandOrigin.AUTOMATIC
    assert command.priority < MANUAL_PRIORITY
    # G1 / G2: non-emergency switches delivered in the window and not failed.
    counted = [
        s.delivered_minutes_ago
        for s in history.switches
        if s.origin is not CommandOrigin.EMERGENCY and s.status is not CommandStatus.FAILED
        and s.delivered_minutes_ago is not None
    ]  # fmt: skip
    assert sum(1 for m in counted if m < 24 * 60) < t.max_switches_per_day
    assert sum(1 for m in counted if m < 7 * 24 * 60) < t.max_switches_per_week
    # G3: the cooldown after the last finished switch or failover.
    finished = [
        s.finished_minutes_ago
        for s in history.switches
        if s.status in (CommandStatus.COMPLETED, CommandStatus.FAILED) and s.finished_minutes_ago is not None
    ]
    if history.failover_minutes_ago is not None:
        finished.append(history.failover_minutes_ago)
    if finished:
        assert min(finished) >= t.cooldown_minutes
    # DP-7: the target is another, non-blocklisted pool (no termination notice within 24 h).
    if command.target_pool_id is not None:
        assert command.target_pool_id != (None if history.ondemand else CURRENT)
        assert not any(
            pool == command.target_pool_id and kind is SignalKind.TERMINATION and minutes < 24 * 60
            for pool, kind, minutes in history.notices
        )
    # G4 – G6 hold for voluntary moves (risk exits skip them).
    if command.motive in ("savings", "return_to_spot"):
        assert history.placement_minutes_ago >= t.min_pool_duration_hours * 60
        assert history.auto_terminate
        decision = result.decision
        assert decision is not None
        assert decision.expected_hourly_savings is not None
        current = history.prices[CURRENT] if not history.ondemand else Decimal("0.041600")
        wait = history.terminate_wait  # auto-terminate is on here (G5)
        payback = decision.expected_hourly_savings * max(t.min_pool_duration_hours, 1)
        assert payback > current * (wait + 300) / 3600
