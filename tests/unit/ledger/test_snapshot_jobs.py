"""Savings and client-growth snapshots (domain §5.4, §7.2 "Snapshots"; LG-5, LG-7, LG-8, JB-2)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ledger.snapshot_client_growth import (
    SnapshotClientGrowth,
    SnapshotClientGrowthResult,
    growth_key,
)
from spotopt.application.ledger.snapshot_savings import SnapshotKind, daily_key, monthly_key
from spotopt.domain.agents.values import TerminationReason
from spotopt.domain.clients.client import Client, ClientStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.accrual import close_entry
from spotopt.domain.ledger.entry import CloseReason
from spotopt.domain.ledger.savings import DailySavings
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot, SavingsDailySnapshot, SavingsMonthlySnapshot
from spotopt.domain.shared.errors import DomainError
from spotopt.domain.shared.ids import ClientId
from tests.factories.agents import make_client
from tests.factories.commands import make_switch
from tests.factories.ledger import POOL_A, POOL_C, LedgerWorld, at, closed_in_day, port, priced_sum, standby
from tests.factories.replicas import make_episode
from tests.fakes.ledger import InMemorySnapshotRepository
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock
from tests.fakes.uow import InMemoryUnitOfWork, InScope

DAY = date(2026, 3, 10)
NEXT = at(11)
EVENING = at(9, 20)
GROWTH_RUN = at(10, 0, 5)


def daily(world: LedgerWorld, day: date = DAY) -> SavingsDailySnapshot:
    return world.uow.store.daily_snapshots[(world.client.client_id, day)]


def monthly(world: LedgerWorld, year: int = 2026, month: int = 3) -> SavingsMonthlySnapshot:
    return world.uow.store.monthly_snapshots[(world.client.client_id, year, month)]


def steady_world(start: datetime = EVENING, price: str = "0.012500") -> LedgerWorld:
    """A client created at ``start`` whose one primary is priced all along from then until 12 March."""
    world = LedgerWorld()
    world.client.created_at = start
    instance = world.add_instance(first_seen_at=start, role_changed_at=start)
    world.price(POOL_A, start, at(12), price)
    world.open(instance, start, price)
    return world


# --- reconciliation: Σ entry savings of a day == the daily snapshot (LG-5) -----------------------------------------

prices = st.one_of(st.none(), st.sampled_from(["0.009000", "0.012500", "0.014000", "0.041600", "0.060000"]))
changes = st.lists(st.tuples(st.integers(0, 287), prices), max_size=5)
standby_window = st.one_of(st.none(), st.tuples(st.integers(1, 1400), st.integers(1, 1500)))


async def run_day(path: list[tuple[int, str | None]], window: tuple[int, int] | None) -> LedgerWorld:
    """i-aaa primary from the evening before under a random price path; maybe a standby for part of the day."""
    world = LedgerWorld()
    primary = world.add_instance(first_seen_at=at(9, 20), role_changed_at=at(9, 20))
    world.price(POOL_A, at(9, 20), at(11, 1), "0.012500")
    for bucket, price in sorted(dict(path).items(), key=lambda item: item[0]):
        start = at(10) + timedelta(minutes=5 * bucket)
        for key in [k for k in world.uow.store.buckets if k[0] == POOL_A and k[1] >= start]:
            del world.uow.store.buckets[key]
        if price is not None:
            world.price(POOL_A, start, at(11, 1), price)
    world.price(POOL_C, at(9, 20), at(11, 1), "0.013100")
    world.open(primary, at(9, 20), "0.012500")
    events: dict[datetime, str] = {}
    if window is not None:
        events[at(10) + timedelta(minutes=window[0])] = "launch"
        events[at(10) + timedelta(minutes=window[0] + window[1])] = "stop"
    tick, book, instance = at(10, 0, 2), LedgerBook(port(world.uow)), None
    while tick <= at(11, 0, 7):
        for when in sorted(t for t in events if tick - timedelta(minutes=5) < t <= tick):
            world.clock.current = when
            if events[when] == "launch":
                instance = standby(world, first_seen_at=when, role_changed_at=when)
                await book.open(instance, when, when)
            elif instance is not None:
                instance.terminate(TerminationReason.REPORTED, when, when, confirmed=True)
                await book.closed(instance, when, when, CloseReason.TERMINATED)
            await world.uow.commit_setup()  # what the request that launched or stopped the standby committed
        await world.accrue(tick)
        tick += timedelta(minutes=5)
    await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)
    return world


@settings(max_examples=25)
@given(path=changes, window=standby_window)
def test_lg5_daily_snapshot_equals_the_sum_of_the_days_entry_savings(
    path: list[tuple[int, str | None]], window: tuple[int, int] | None
) -> None:
    world = asyncio.run(run_day(path, window))

    snapshot = daily(world)
    entries = closed_in_day(world.entries(), DAY)
    assert snapshot.final
    assert snapshot.figures.savings == priced_sum(entries, "savings")
    assert snapshot.figures.baseline_cost == priced_sum(entries, "baseline_cost")
    assert snapshot.figures.actual_cost == priced_sum(entries, "cost")
    assert snapshot.figures.primary_hours == Decimal(24)  # the primary ran the whole day, split or not
    assert snapshot.instance_count == len({e.instance_id for e in entries})


async def test_lg5_worked_example_day_is_final_after_midnight_with_the_ledgers_figures() -> None:
    world = steady_world()
    world.price(POOL_A, at(10, 9), at(12), "0.014000")
    await world.accrue_ticks(at(10, 9, 7), at(10, 9, 7))
    await world.accrue_ticks(at(11, 0, 2), at(11, 0, 7))

    result = await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)

    snapshot = daily(world)
    assert (snapshot.final, result.daily_final) == (True, 2)  # 9 and 10 March
    assert snapshot.figures.savings == Decimal("0.26190000") + (Decimal("0.041600") - Decimal("0.014000")) * 15
    assert snapshot.figures.savings_percent is not None
    assert snapshot.figures.coverage == Decimal(1)
    assert daily_key(world.client.client_id, DAY) == f"savings-daily:{world.client.client_id}:2026-03-10"


async def test_lg7_unpriced_hours_stay_out_of_the_sums() -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 6), role_changed_at=at(10, 6))
    world.open(instance, at(10, 6), None)
    await world.accrue(at(11, 0, 2))

    await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)

    figures = daily(world).figures
    assert (figures.savings, figures.baseline_cost, figures.unpriced_hours) == (Decimal(0), Decimal(0), Decimal(18))
    assert (figures.coverage, figures.savings_percent) == (Decimal(0), None)


async def test_lg8_negative_savings_are_reported_as_they_are() -> None:
    world = steady_world(price="0.041600")
    world.price(POOL_C, at(9, 20), at(12), "0.013100")
    world.open(standby(world, first_seen_at=at(10), role_changed_at=at(10)), at(10), "0.013100", baseline=None)
    await world.accrue(at(11, 0, 2))

    await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)

    assert daily(world).figures.savings == Decimal("-0.31440000")


# --- final / provisional -----------------------------------------------------------------------------------------


async def test_snapshot_of_today_is_provisional_and_valued_up_to_now() -> None:
    world = steady_world(start=at(10))

    result = await world.snapshot(at(10, 12, 20), SnapshotKind.DAILY)

    today = daily(world)
    assert (today.final, result.daily_provisional) == (False, 1)
    assert today.figures.primary_hours == Decimal("12.3333333333")
    assert world.uow.event_types() == []  # nothing final, nothing to announce


async def test_day_with_an_open_entry_stays_provisional_until_the_accrual_rolled_midnight() -> None:
    world = steady_world()
    await world.accrue(at(10, 0, 2))

    early = await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)
    provisional = daily(world).figures
    await world.accrue(at(11, 0, 17))
    later = await world.snapshot(at(11, 1, 20), SnapshotKind.DAILY)

    assert (early.deferred, later.daily_final) == (1, 1)
    assert daily(world).final
    assert daily(world).figures == provisional  # valued to midnight, the split changed nothing


async def test_a_final_snapshot_is_never_overwritten() -> None:
    world = steady_world()
    await world.accrue(at(11, 0, 2))
    await world.snapshot(at(11, 0, 15))
    final = daily(world).figures
    late = world.open(standby(world, first_seen_at=at(10, 5), role_changed_at=at(10, 5)), at(10, 5), "0.0131", None)
    close_entry(late, at(10, 6), CloseReason.TERMINATED, at(10, 6))  # a day-10 cost that appears too late

    result = await world.snapshot(at(11, 5, 20))

    assert daily(world).figures == final
    assert result.daily_final == 0


def test_domain_revise_keeps_a_final_snapshot() -> None:
    client_id = ClientId("client-1")
    final = SavingsDailySnapshot.of(client_id, DailySavings(day=DAY), final=True, now=NEXT)
    fresh = SavingsDailySnapshot.of(client_id, DailySavings(day=DAY, switch_count=4), final=True, now=at(12))
    provisional = SavingsDailySnapshot.of(client_id, DailySavings(day=DAY), final=False, now=NEXT)

    assert final.revise(fresh) is False
    assert final.figures.switch_count == 0
    assert provisional.revise(fresh) is True
    assert (provisional.final, provisional.figures.switch_count) == (True, 4)


# --- JB-2 back-fill ----------------------------------------------------------------------------------------------


async def test_jb2_fills_every_missing_date_of_the_last_35_days_once() -> None:
    world = steady_world(start=at(1, month=1))
    await world.accrue(at(10, 0, 2))

    first = await world.snapshot(at(10, 0, 15), SnapshotKind.DAILY)
    again = await world.snapshot(at(10, 1, 20), SnapshotKind.DAILY)

    days = sorted(day for (_, day) in world.uow.store.daily_snapshots)
    assert days[0] == DAY - timedelta(days=35)
    assert days[-1] == DAY
    assert len(days) == 36
    assert all(daily(world, d).final for d in days[:-1])
    assert not daily(world, DAY).final
    assert all(daily(world, d).figures.primary_hours == Decimal(24) for d in days[:-1])
    assert (first.daily_final, first.daily_provisional) == (35, 1)
    assert (again.daily_final, again.daily_provisional) == (0, 1)


async def test_jb2_back_fill_starts_with_the_clients_creation() -> None:
    world = steady_world(start=at(1, month=1))
    world.client.created_at = at(8, 13)

    await world.accrue(at(10, 0, 2))
    await world.snapshot(at(10, 0, 15), SnapshotKind.DAILY)

    assert sorted(day for (_, day) in world.uow.store.daily_snapshots) == [date(2026, 3, d) for d in (8, 9, 10)]


async def test_deleted_client_gets_no_snapshots_after_its_deletion() -> None:
    world = steady_world(start=at(1, month=1))
    world.client.deactivate(at(8, 13))
    await world.accrue(at(10, 0, 2))

    await world.snapshot(at(10, 0, 15))

    assert max(day for (_, day) in world.uow.store.daily_snapshots) == date(2026, 3, 8)


# --- monthly -----------------------------------------------------------------------------------------------------


async def test_monthly_snapshot_sums_the_days_and_is_final_on_the_first_of_the_next_month() -> None:
    world = steady_world(start=at(25, month=2))
    await world.accrue(at(1, 0, 2))

    result = await world.snapshot(at(1, 0, 25))

    february = monthly(world, 2026, 2)
    days = [daily(world, date(2026, 2, d)) for d in range(25, 29)]
    assert (february.final, february.days, result.monthly_final) == (True, 4, 1)
    assert february.figures.savings == sum((d.figures.savings for d in days), Decimal(0))
    assert february.figures.primary_hours == Decimal(96)
    assert not monthly(world).final  # March to date: provisional today only
    assert monthly_key(world.client.client_id, 2026, 2) == f"savings-monthly:{world.client.client_id}:2026-02"
    [event] = [e for e in world.uow.store.events if e.type == "savings_computed"]
    assert event.client_id == world.client.client_id
    assert event.metadata["months"] == ["2026-02"]


async def test_month_to_date_includes_the_provisional_today() -> None:
    world = steady_world(start=at(1, month=3))
    await world.accrue(at(10, 0, 2))

    await world.snapshot(at(10, 6, 25))

    march = monthly(world)
    assert (march.final, march.days) == (False, 10)
    assert march.figures.primary_hours == Decimal("222.4166666667")  # 9 days and 6 h 25 min
    assert march.figures.savings == sum(
        (daily(world, date(2026, 3, d)).figures.savings for d in range(1, 11)), Decimal(0)
    )


async def test_switch_and_failover_counts_come_from_their_records_of_the_day() -> None:
    world = steady_world()
    await world.accrue(at(11, 0, 2))
    world.uow.store.switches["s1"] = make_switch(world.agent, received_at=at(10, 10))
    world.uow.store.switches["s2"] = make_switch(world.agent, received_at=at(11, 0, 1))
    failover = make_episode(world.agent, state=EpisodeState.FAILED_OVER, closed_at=at(10, 14, 48))
    world.uow.store.episodes[failover.episode_id] = failover

    await world.snapshot(at(11, 0, 15), SnapshotKind.DAILY)

    figures = daily(world).figures
    assert (figures.switch_count, figures.failover_count) == (1, 1)


# --- events and failures -----------------------------------------------------------------------------------------


class FailingSnapshots(InMemorySnapshotRepository):
    def __init__(self, store: InMemoryStore, failing: ClientId) -> None:
        super().__init__(store)
        self.failing = failing

    async def count_switches(self, client_id: ClientId, start: datetime, end: datetime) -> int:
        if client_id == self.failing:
            raise DomainError("switch records unreadable", code="broken")
        return await super().count_switches(client_id, start, end)


async def test_a_failing_client_emits_savings_computation_failed_and_the_others_proceed() -> None:
    world = steady_world()
    other = make_client(created_at=at(1, month=1))
    world.uow.store.clients[other.client_id] = other
    world.uow.snapshots = FailingSnapshots(world.uow.store, world.client.client_id)
    await world.accrue(at(11, 0, 2))

    result = await world.snapshot(at(11, 0, 15))

    assert result.failed == (world.client.client_id,)
    assert (other.client_id, DAY) in world.uow.store.daily_snapshots
    [failure] = [e for e in world.uow.store.events if e.type == "savings_computation_failed"]
    assert (failure.client_id, failure.severity.value) == (world.client.client_id, "error")
    assert "switch records unreadable" in failure.message


async def test_clients_are_processed_in_bounded_batches() -> None:
    world = LedgerWorld()
    for _ in range(2):
        extra = make_client(created_at=at(9))
        world.uow.store.clients[extra.client_id] = extra
    ids = sorted(world.uow.store.clients)

    first = await world.snapshot(at(10, 0, 15), limit=2)
    second = await world.snapshot(at(10, 0, 15), limit=2, after=first.next_after)

    assert (first.clients, first.next_after, second.clients, second.next_after) == (2, ids[1], 1, None)


# --- client growth -----------------------------------------------------------------------------------------------


def growth_world(
    *clients: Client, now: datetime = GROWTH_RUN
) -> tuple[InMemoryUnitOfWork, InScope[[], SnapshotClientGrowthResult]]:
    uow = InMemoryUnitOfWork()
    for client in clients:
        uow.store.clients[client.client_id] = client
    return uow, InScope(SnapshotClientGrowth(port(uow), FixedClock(now)).execute, uow)


async def test_growth_of_yesterday_counts_clients_and_the_active_ones_now() -> None:
    old, new = make_client(created_at=at(1)), make_client(created_at=at(9, 15))
    gone = make_client(created_at=at(1), status=ClientStatus.INACTIVE, deleted_at=at(9, 3))
    uow, sut = growth_world(old, new, gone)

    result = await sut.execute()

    yesterday = uow.store.growth_snapshots[date(2026, 3, 9)]
    assert (yesterday.total_clients, yesterday.new_clients, yesterday.active_clients) == (2, 1, 2)
    assert result.written[-1] == date(2026, 3, 9)
    assert growth_key(date(2026, 3, 9)) == "growth:2026-03-09"


async def test_growth_back_fill_uses_real_creation_dates_and_leaves_active_clients_null() -> None:
    first, second = make_client(created_at=at(3, 8)), make_client(created_at=at(6, 22))
    uow, sut = growth_world(first, second)

    result = await sut.execute()

    rows = uow.store.growth_snapshots
    assert sorted(rows) == [date(2026, 3, d) for d in range(3, 10)]  # nothing before the first client
    assert result.backfilled == tuple(date(2026, 3, d) for d in range(3, 9))
    assert [rows[date(2026, 3, d)].total_clients for d in range(3, 10)] == [1, 1, 1, 2, 2, 2, 2]
    assert [rows[date(2026, 3, d)].new_clients for d in range(3, 10)] == [1, 0, 0, 1, 0, 0, 0]
    assert all(rows[date(2026, 3, d)].active_clients is None for d in range(3, 9))


async def test_growth_never_changes_an_existing_snapshot() -> None:
    uow, sut = growth_world(make_client(created_at=at(1, month=1)))
    kept = ClientGrowthSnapshot(
        day=date(2026, 3, 9), total_clients=7, new_clients=7, active_clients=7, computed_at=NEXT
    )
    uow.store.growth_snapshots[kept.day] = kept

    await sut.execute()
    await sut.execute()

    assert uow.store.growth_snapshots[kept.day] is kept
    assert kept.total_clients == 7
    assert len(uow.store.growth_snapshots) == 35  # 3 Feb … 9 Mar, each written once


async def test_growth_without_clients_writes_nothing() -> None:
    uow, sut = growth_world()
    assert (await sut.execute()).written == ()
    assert uow.store.growth_snapshots == {}
