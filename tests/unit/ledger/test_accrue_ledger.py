"""The ledger accrual job (domain §7.2 "Ledger accrual", §5.5; LG-2, LG-3, LG-4, LG-7, IN-8, CC-4, JB-5)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import astuple
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spotopt.application.ledger.accrue_ledger import accrual_key, last_completed_bucket
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole, TerminationReason
from spotopt.domain.ledger.accrual import close_entry
from spotopt.domain.ledger.entry import CloseReason, LedgerEntry, PriceFlag
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId
from tests.factories.ledger import INSTANCE_A, INSTANCE_B, ONDEMAND, POOL_A, POOL_C, LedgerWorld, at, standby
from tests.factories.pricing import make_bucket
from tests.fakes.agents import InMemoryAgentRepository
from tests.fakes.store import InMemoryStore


class LockedAgents(InMemoryAgentRepository):
    """Agents whose rows another transaction holds (``SKIP LOCKED`` returns nothing for them)."""

    def __init__(self, store: InMemoryStore, locked: set[str]) -> None:
        super().__init__(store)
        self.locked = locked

    async def get_for_update_skip_locked(self, client_id: ClientId, agent_id: str) -> Agent | None:
        return None if agent_id in self.locked else await super().get_for_update_skip_locked(client_id, agent_id)


def state(entries: list[LedgerEntry]) -> list[tuple[object, ...]]:
    return [astuple(e) for e in entries]


def worked_example() -> LedgerWorld:
    """§5.5: i-aaa primary in t3.medium.us-east-1a since the evening before; the pool price rises at 09:00."""
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(9, 20), role_changed_at=at(9, 20))
    world.price(POOL_A, at(9, 20), at(10, 9), "0.012500")
    world.price(POOL_A, at(10, 9), at(10, 12), "0.014000")
    world.open(instance, at(9, 20), "0.012500")
    return world


async def test_lg4_worked_example_price_change_at_0900_is_split_by_the_accrual_job() -> None:
    world = worked_example()

    await world.accrue_ticks(at(10, 0, 2), at(10, 9, 7))

    yesterday, first, second = world.entries(INSTANCE_A)
    assert (yesterday.ended_at, yesterday.close_reason) == (at(10), CloseReason.DAY_BOUNDARY)
    assert (first.started_at, first.ended_at, first.close_reason) == (at(10), at(10, 9), CloseReason.PRICE_CHANGE)
    assert (first.price, first.baseline, first.hours) == (Decimal("0.012500"), ONDEMAND, Decimal(9))
    assert (first.cost, first.baseline_cost, first.savings) == (
        Decimal("0.11250000"),
        Decimal("0.37440000"),
        Decimal("0.26190000"),
    )
    assert (second.started_at, second.price, second.is_open) == (at(10, 9), Decimal("0.014000"), True)
    assert second.price_bucket_start == at(10, 9)


async def test_lg4_accrual_is_idempotent_for_a_bucket_already_applied() -> None:
    world = worked_example()
    await world.accrue_ticks(at(10, 0, 2), at(10, 9, 7))
    before = state(world.entries())

    again = await world.accrue(at(10, 9, 7))
    later = await world.accrue(at(10, 9, 12))

    assert (again.entries_written, later.entries_written) == (0, 0)
    assert state(world.entries()) == before


async def test_lg4_accrual_rolls_every_midnight_up_to_now() -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(8, 22), role_changed_at=at(8, 22))
    world.set_ondemand(ONDEMAND)
    world.price(POOL_A, at(9, 20), at(10, 1), "0.012500")
    world.open(instance, at(8, 22), "0.012500")

    await world.accrue(at(10, 0, 2))

    entries = world.entries(INSTANCE_A)
    assert [(e.started_at, e.ended_at) for e in entries] == [(at(8, 22), at(9)), (at(9), at(10)), (at(10), None)]
    assert [e.close_reason for e in entries] == [CloseReason.DAY_BOUNDARY, CloseReason.DAY_BOUNDARY, None]
    assert entries[1].hours == Decimal(24)


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [(None, "0.013000", CloseReason.PRICE_CHANGE), ("0.013000", None, CloseReason.PRICE_CHANGE)],
    ids=["unknown-to-known", "known-to-unknown"],
)
async def test_lg4_unknown_and_known_prices_split_at_the_bucket_start(
    before: str | None, after: str | None, reason: CloseReason
) -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 2), role_changed_at=at(10, 2))
    if before is not None:
        world.price(POOL_A, at(10, 2), at(10, 4), before)
    if after is not None:
        world.price(POOL_A, at(10, 10), at(10, 11), after)
    world.open(instance, at(10, 2), before)

    await world.accrue(at(10, 10, 7))

    first, second = world.entries(INSTANCE_A)
    assert (first.ended_at, first.close_reason) == (at(10, 10), reason)
    assert second.started_at == at(10, 10)
    assert second.price == (None if after is None else Decimal(after))
    unpriced = first if before is None else second
    assert unpriced.cost is None
    assert unpriced.savings is None


async def test_lg4_known_price_older_than_six_hours_becomes_unknown() -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 1), role_changed_at=at(10, 1))
    world.price(POOL_A, at(10, 1), at(10, 1, 5), "0.013000")
    world.open(instance, at(10, 1), "0.013000")

    await world.accrue(at(10, 7, 2))  # the 06:55 bucket: still within 6 h, carried forward
    carried = world.entries(INSTANCE_A)
    await world.accrue(at(10, 7, 7))  # the 07:00 bucket: 6 h 00 min old, still usable
    await world.accrue(at(10, 7, 12))  # the 07:05 bucket: older than 6 h, unknown

    assert len(carried) == 1
    first, second = world.entries(INSTANCE_A)
    assert (first.ended_at, first.price) == (at(10, 7, 5), Decimal("0.013000"))
    assert (second.price, second.close_reason) == (None, None)


async def test_lg4_carried_forward_price_changes_provenance_only_and_does_not_split() -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 1), role_changed_at=at(10, 1))
    world.price(POOL_A, at(10, 1), at(10, 1, 5), "0.013000")
    world.open(instance, at(10, 1), "0.013000")

    await world.accrue(at(10, 2, 2))

    [entry] = world.entries(INSTANCE_A)
    assert entry.is_open
    assert entry.price_flags == frozenset()
    assert PriceFlag.CARRIED_FORWARD not in entry.price_flags


async def test_lg4_baseline_change_splits_a_primary_entry() -> None:
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 1), role_changed_at=at(10, 1))
    world.price(POOL_A, at(10, 1), at(10, 4), "0.013000")
    world.open(instance, at(10, 1), "0.013000")
    world.set_ondemand(Decimal("0.045000"), observed_at=at(10, 2, 30))

    await world.accrue(at(10, 3, 2))

    first, second = world.entries(INSTANCE_A)
    assert (first.ended_at, first.close_reason, first.baseline) == (
        at(10, 2, 55),
        CloseReason.BASELINE_CHANGE,
        ONDEMAND,
    )
    assert (second.started_at, second.baseline, second.price) == (at(10, 2, 55), Decimal("0.045000"), Decimal("0.013"))


async def test_lg4_standby_entry_is_repriced_and_carries_no_baseline() -> None:
    world = LedgerWorld()
    instance = standby(world, first_seen_at=at(10, 1), role_changed_at=at(10, 1))
    world.price(POOL_C, at(10, 1), at(10, 5), "0.013100")
    world.price(POOL_C, at(10, 5), at(10, 6), "0.015000")
    world.open(instance, at(10, 1), "0.013100", baseline=None)

    await world.accrue(at(10, 5, 7))

    first, second = world.entries(INSTANCE_B)
    assert (first.close_reason, first.baseline_cost, first.savings) == (
        CloseReason.PRICE_CHANGE,
        Decimal(0),
        -first.cost,  # type: ignore[operator]
    )
    assert (second.price, second.baseline, second.role) == (Decimal("0.015000"), None, InstanceRole.STANDBY)


async def test_lg4_price_in_effect_covering_the_entry_start_reprices_in_place() -> None:
    """A bucket that arrives late for the entry's own first bucket re-prices it; no empty entry is created."""
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(10, 9, 3), role_changed_at=at(10, 9, 3))
    world.open(instance, at(10, 9, 3), None)
    world.price(POOL_A, at(10, 9), at(10, 9, 5), "0.012000")

    await world.accrue(at(10, 9, 7))

    [entry] = world.entries(INSTANCE_A)
    assert (entry.started_at, entry.price, entry.is_open) == (at(10, 9, 3), Decimal("0.012000"), True)


async def test_lg2_closed_entries_are_never_modified() -> None:
    world = worked_example()
    [entry] = world.entries(INSTANCE_A)
    [closed] = list(close_entry(entry, at(9, 21), CloseReason.ROLE_CHANGE, at(9, 21)).changed)
    before = state([closed])

    result = await world.accrue(at(10, 9, 7))

    assert result.agents == 0
    assert state(world.entries(INSTANCE_A)) == before


async def test_domain_in8_entry_of_a_terminated_instance_is_left_alone() -> None:
    world = worked_example()
    instance = world.uow.store.instances[(world.client.client_id, INSTANCE_A)]
    instance.terminate(TerminationReason.REPORTED, at(9, 22), at(9, 22), confirmed=True)
    before = state(world.entries(INSTANCE_A))

    result = await world.accrue(at(10, 9, 7))

    assert result.entries_written == 0
    assert state(world.entries(INSTANCE_A)) == before  # no successor for a terminated instance


async def test_lg3_no_split_lands_outside_the_entry() -> None:
    world = worked_example()
    await world.accrue_ticks(at(10, 0, 2), at(10, 9, 7))

    entries = world.entries(INSTANCE_A)

    assert all(e.started_at <= (e.ended_at or at(10, 9, 7)) <= at(10, 9, 7) for e in entries)
    assert all(a.ended_at == b.started_at for a, b in itertools.pairwise(entries))  # LG-1 contiguous


async def test_cc4_agent_locked_elsewhere_is_skipped_and_caught_up_with_lookback() -> None:
    world = worked_example()
    await world.accrue_ticks(at(10, 0, 2), at(10, 9, 2))
    world.uow.agents = LockedAgents(world.uow.store, {world.agent.agent_id})

    skipped = await world.accrue(at(10, 9, 7))
    world.uow.agents = InMemoryAgentRepository(world.uow.store)
    caught_up = await world.accrue(at(10, 9, 12), lookback=1)

    assert skipped.skipped == (world.agent.agent_id,)
    assert caught_up.entries_written == 2
    assert [e.started_at for e in world.entries(INSTANCE_A)][-1] == at(10, 9)  # the split of the missed bucket


async def test_jb5_agents_are_processed_in_bounded_batches_by_agent_id() -> None:
    world = LedgerWorld()
    agents = sorted((world.add_agent() for _ in range(3)), key=lambda a: a.agent_id)
    world.price(POOL_A, at(10, 8), at(10, 10), "0.012500")
    for n, agent in enumerate(agents):
        instance = world.add_instance(agent, instance_id=f"i-0000000{n + 1}")
        world.open(instance, at(10, 8), "0.011000")

    first = await world.accrue(at(10, 9, 7), limit=2)
    second = await world.accrue(at(10, 9, 7), limit=2, after=first.next_after)

    assert (first.agents, first.next_after) == (2, agents[1].agent_id)
    assert (second.agents, second.next_after) == (1, None)
    assert sum(1 for e in world.entries() if e.is_open and e.price == Decimal("0.012500")) == 3


async def test_accrual_only_takes_a_completed_bucket() -> None:
    world = worked_example()
    with pytest.raises(InvalidValueError):
        await world.accrue(at(10, 9, 7), bucket=at(10, 9, 5))
    with pytest.raises(InvalidValueError):
        await world.accrue(at(10, 9, 7), bucket=at(10, 9, 1))


def test_the_job_key_names_the_last_completed_bucket() -> None:
    assert last_completed_bucket(at(10, 9, 7)) == at(10, 9)
    assert last_completed_bucket(at(10, 0, 2)) == at(9, 23, 55)
    assert last_completed_bucket(at(10, 9, 5)) == at(10, 9)
    assert accrual_key(at(10, 9)) == "ledger:2026-03-10T09:00:00Z"


async def test_accrual_without_open_entries_does_nothing() -> None:
    world = LedgerWorld()
    result = await world.accrue(at(10, 9, 7))
    assert (result.agents, result.entries_written, result.next_after, world.uow.commits) == (0, 0, None, 0)


# --- properties --------------------------------------------------------------------------------------------------

price_paths = st.lists(
    st.tuples(st.integers(0, 60), st.sampled_from([None, "0.011000", "0.012500", "0.014000"])), max_size=6
)


Row = tuple[datetime, datetime | None, Decimal | None, Decimal | None, Decimal | None, Decimal | None, object]


async def run_path(path: list[tuple[int, str | None]], repeats: list[int]) -> list[Row]:
    """A primary under a price path (bucket index from 22:00 → price, None = no measurement), the accrual job at
    every tick until 03:02 the next day, each tick run ``repeats[i]`` times; returns the ledger without ids."""
    world = LedgerWorld()
    instance = world.add_instance(first_seen_at=at(9, 21, 1), role_changed_at=at(9, 21, 1))
    start = at(9, 22)
    for index, price in sorted(dict(path).items(), key=lambda item: item[0]):
        if price is not None:
            world.uow.buckets.put(make_bucket(POOL_A, start + timedelta(minutes=5 * index), price))
    world.open(instance, at(9, 21, 1), None)
    tick = at(9, 22, 2)
    for n in itertools.count():
        if tick > at(10, 3, 2):
            break
        for _ in range(repeats[n % len(repeats)]):
            await world.accrue(tick)
        tick += timedelta(minutes=5)
    return [
        (e.started_at, e.ended_at, e.price, e.baseline, e.cost, e.savings, e.close_reason)
        for e in world.entries(INSTANCE_A)
    ]


@settings(max_examples=20)
@given(path=price_paths, repeats=st.lists(st.integers(1, 3), min_size=1, max_size=5))
def test_lg4_repeating_accrual_ticks_gives_the_same_contiguous_midnight_split_ledger(
    path: list[tuple[int, str | None]], repeats: list[int]
) -> None:
    once = asyncio.run(run_path(path, [1]))
    repeated = asyncio.run(run_path(path, repeats))

    assert repeated == once
    assert once[0][0] == at(9, 21, 1)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(once))  # LG-1: contiguous, no overlap
    assert all(end is None or start.date() == (end - timedelta(microseconds=1)).date() for start, end, *_ in once)
    assert any(end == at(10) for _, end, *_ in once)  # LG-4: the midnight split
