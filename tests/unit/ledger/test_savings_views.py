"""The one savings reader (LG-5, §5.3): final snapshots and the ledger give one answer, day by day and in total."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.ledger.get_client_savings import GetClientSavings, GetClientSavingsQuery
from spotopt.application.ledger.savings_views import SavingsReader
from spotopt.application.ledger.snapshot_savings import SnapshotSavings, SnapshotSavingsCommand
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.ledger.entry import LedgerEntry, LedgerEntryId
from spotopt.domain.ledger.snapshots import day_start
from spotopt.domain.shared.ids import InstanceId, new_id
from spotopt.domain.shared.pools import Mode
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.savings_history import (
    DAY,
    FIRST_DAY,
    NOW,
    TODAY,
    SavingsHistory,
    expected_day,
    expected_total,
    seed_history,
)
from tests.fakes.savings_views import InMemorySavingsViews
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork

PAST_DAYS = [FIRST_DAY + i * DAY for i in range(4)]


async def _history(dropped: frozenset[int] = frozenset()) -> tuple[InMemoryUnitOfWork, SavingsHistory]:
    uow = InMemoryUnitOfWork()
    history = await seed_history(uow)
    await SnapshotSavings(uow, FixedClock(NOW)).execute(SnapshotSavingsCommand())
    for index in dropped:  # a past day whose final snapshot is not there (yet)
        uow.store.daily_snapshots.pop((history.client.client_id, PAST_DAYS[index]), None)
    return uow, history


@settings(max_examples=16, deadline=None)
@given(dropped=st.frozensets(st.integers(min_value=0, max_value=3)), days=st.integers(min_value=1, max_value=40))
def test_lg5_figures_are_the_ledger_whichever_days_have_a_final_snapshot(dropped: frozenset[int], days: int) -> None:
    """LG-5, §5.3, JB-2: a day counts once, from its final snapshot or from the ledger; window and total agree."""

    async def run() -> None:
        uow, history = await _history(dropped)
        client_id = history.client.client_id
        entries = history.entries_of(client_id)
        reader = SavingsReader(InMemorySavingsViews(uow.store))
        savings = await reader.client(client_id, days, NOW)
        first = TODAY - timedelta(days=days - 1)
        assert savings.window.savings == expected_total(entries, max(first, FIRST_DAY), TODAY)
        assert savings.projection.total_savings == expected_total(entries)
        assert savings.projection.savings_today == expected_day(entries, TODAY)
        for figures in savings.days:
            assert figures.figures.savings == expected_day(entries, figures.day), figures.day
            lived = FIRST_DAY - DAY <= figures.day < TODAY  # the client exists from the day before the history
            kept = figures.day not in PAST_DAYS or PAST_DAYS.index(figures.day) not in dropped
            assert figures.final is (lived and kept)
        totals = await reader.totals([client_id], NOW, days=days)
        assert totals[client_id].total_savings == savings.projection.total_savings
        assert totals[client_id].window_savings == savings.window.savings

    asyncio.run(run())


async def test_c18_empty_client_gives_zeros_and_nulls_never_an_error() -> None:
    uow = InMemoryUnitOfWork()
    client = make_client()
    await uow.clients.add(client)
    await uow.commit_setup()
    use_case = GetClientSavings(
        SavingsReader(InMemorySavingsViews(uow.store)), InMemorySavingsViews(uow.store), FixedClock(NOW)
    )
    result = await use_case.execute(GetClientSavingsQuery(client_id=client.client_id, days=7))
    assert result.savings.window.savings == 0
    assert result.savings.window.savings_percent is None
    assert result.savings.window.coverage is None
    assert result.savings.final_through is None
    assert result.savings.projection.total_savings == 0
    assert len(result.savings.days) == 7
    assert (result.switch_count, result.failover_count) == (0, 0)
    assert uow.commits == 0  # a pure read


async def test_lg8_lg7_a_standby_alone_saves_negatively_and_unpriced_hours_stay_out_of_sums() -> None:
    uow = InMemoryUnitOfWork()
    client = make_client()
    agent = make_agent(client.client_id)
    await uow.clients.add(client)
    await uow.agents.add(agent)
    standby = make_instance(
        agent.agent_id, client.client_id, instance_id="i-0000000000000d001", role=InstanceRole.STANDBY
    )
    await uow.instances.add(standby)
    start = day_start(TODAY) + timedelta(hours=10)
    common: dict[str, Any] = {"client_id": client.client_id, "agent_id": agent.agent_id, "mode": Mode.SPOT, "pool_id": None,
              "instance_type": "t3.medium", "region": "us-east-1"}  # fmt: skip
    await uow.ledger.save([
        LedgerEntry(LedgerEntryId(new_id()), instance_id=InstanceId(standby.instance_id), role=InstanceRole.STANDBY,
                    started_at=start, price=Decimal("0.010000"), **common),
        LedgerEntry(LedgerEntryId(new_id()), instance_id=InstanceId("i-0000000000000d002"), role=InstanceRole.PRIMARY,
                    started_at=start, price=None, baseline=Decimal("0.041600"), **common),
    ])  # fmt: skip
    await uow.commit_setup()
    savings = await SavingsReader(InMemorySavingsViews(uow.store)).client(client.client_id, 1, NOW)
    hours = Decimal("5.5")  # 10:00 → 15:30
    assert savings.window.savings == -(Decimal("0.010000") * hours)  # LG-8: not clipped at zero
    assert savings.window.unpriced_hours == hours  # LG-7: the unpriced primary shows here, not in sums
    assert savings.window.baseline_cost == 0
    assert savings.projection.hourly_rate == Decimal("-0.010000")
