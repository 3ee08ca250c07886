"""Contract of the ledger-job repository methods: the in-memory fakes and the SQL adapters behave alike.

Covers ``ledger`` (open entries per agent, the accrual's agent keyset, a day's entries), ``commands``
(agents with live commands), ``snapshots`` (§5.4 rows and the counts they take) and the retention store (§7.3),
plus the accrual and snapshot use cases end to end. Runs on SQLite locally and on MariaDB when
``SPOTOPT_TEST_DATABASE_URL`` is set (CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.models.metadata import metadata
from spotopt.adapters.persistence.repositories.retention import SqlAlchemyRetentionStore
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.errors import ConflictError
from spotopt.application.ledger.accrue_ledger import AccrueLedger, AccrueLedgerCommand
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.ledger.snapshot_savings import SnapshotSavings, SnapshotSavingsCommand
from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.commands import CommandRepository
from spotopt.application.ports.ledger import LedgerRepository, SnapshotRepository
from spotopt.application.ports.system import RetentionStore
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.system.clean_retention import CleanRetention, CleanRetentionCommand
from spotopt.domain.clients.client import ClientStatus
from spotopt.domain.commands.values import CommandStatus
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.ledger.accrual import close_entry, open_entry
from spotopt.domain.ledger.entry import CloseReason as Reason
from spotopt.domain.ledger.entry import LedgerEntry, LedgerPrice
from spotopt.domain.ledger.savings import DailySavings, MonthlySavings, SavingsHours
from spotopt.domain.ledger.snapshots import ClientGrowthSnapshot, SavingsDailySnapshot, SavingsMonthlySnapshot
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from tests import services
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.commands import make_command, make_switch
from tests.factories.ledger import ONDEMAND, POOL_A, at, port
from tests.factories.pricing import make_bucket
from tests.factories.replicas import make_episode
from tests.factories.retention import NOW, expected_survivors, seed, survivors_in_database, survivors_in_memory
from tests.fakes.commands import InMemoryCommandRepository
from tests.fakes.ledger import InMemoryLedgerRepository, InMemorySnapshotRepository
from tests.fakes.store import InMemoryStore
from tests.fakes.system import FixedClock, InMemoryRetentionStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database

CLIENT = ClientId("client-ledger")
AGENT_1, AGENT_2, AGENT_3 = AgentId("agent-1"), AgentId("agent-2"), AgentId("agent-3")


def _typed(store: InMemoryStore) -> None:
    """The fakes implement their ports (mypy checks these assignments)."""
    _ledger: LedgerRepository = InMemoryLedgerRepository(store)
    _commands: CommandRepository = InMemoryCommandRepository(store)
    _snapshots: SnapshotRepository = InMemorySnapshotRepository(store)
    _retention: RetentionStore = InMemoryRetentionStore(store)


class Backend:
    """``await backend.fresh()`` opens a new unit of work (a new transaction on SQL) over one shared store."""

    def __init__(self, store: InMemoryStore | None = None, engine: AsyncEngine | None = None) -> None:
        self.store = store
        self._sessions = None if engine is None else create_sessionmaker(engine)
        self._open: list[AsyncSession] = []
        self.session: AsyncSession | None = None

    async def fresh(self) -> UnitOfWork:
        if self.store is not None:
            return port(InMemoryUnitOfWork(self.store))
        assert self._sessions is not None
        await self.close()  # one transaction at a time (SQLite takes the write lock at BEGIN)
        self.session = self._sessions()
        self._open.append(self.session)
        return port(SqlAlchemyUnitOfWork(self.session))

    def retention(self) -> RetentionStore:
        if self.store is not None:
            return InMemoryRetentionStore(self.store)
        assert self.session is not None
        return SqlAlchemyRetentionStore(self.session)

    async def survivors(self) -> dict[str, set[str]]:
        if self.store is not None:
            return survivors_in_memory(self.store)
        assert self.session is not None
        return await survivors_in_database(self.session)

    async def close(self) -> None:
        while self._open:
            await self._open.pop().close()


Fresh = Callable[[], Awaitable[UnitOfWork]]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("ledger-contract")
    url = services.test_database_url(tmp)
    reset_database(make_settings(url, tmp))
    return url


@pytest.fixture(params=["in-memory", "sqlalchemy"])
async def backend(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Backend]:
    if request.param == "in-memory":
        yield Backend(store=InMemoryStore())
        return
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))
    sql = Backend(engine=engine)
    yield sql
    await sql.close()
    await engine.dispose()


async def owners(uow: UnitOfWork, *agents: tuple[ClientId, AgentId], clients: tuple[ClientId, ...] = (CLIENT,)) -> None:
    """The clients and agents the rows of a test name (their foreign keys)."""
    for client_id in clients:
        await uow.clients.add(make_client(client_id=client_id))
    for client_id, agent_id in agents:
        await uow.agents.add(make_agent(client_id, agent_id=agent_id, logical_agent_id=f"web-{agent_id}"))


async def save_entries(uow: UnitOfWork, entries: list[LedgerEntry]) -> None:
    """Ledger entries with the clients, agents and instances they name."""
    await owners(
        uow, *dict.fromkeys((e.client_id, e.agent_id) for e in entries), clients=tuple({e.client_id for e in entries})
    )
    named = {(e.client_id, e.instance_id): e for e in entries}
    for (client_id, instance_id), e in named.items():
        await uow.instances.add(make_instance(e.agent_id, client_id, instance_id=instance_id))
    await uow.ledger.save(entries)


def entry(agent: AgentId, instance: str, start: Any, end: Any = None, client: ClientId = CLIENT) -> LedgerEntry:
    """An entry opened at ``start`` (closed at ``end`` when given), priced 0.0125 against 0.0416 on demand."""
    owner = make_instance(agent, client, instance_id=InstanceId(instance), first_seen_at=start, role_changed_at=start)
    opened = open_entry(owner, start, start, price=LedgerPrice(Decimal("0.0125")), baseline=ONDEMAND).current
    assert opened is not None
    if end is not None:
        close_entry(opened, end, Reason.TERMINATED, end)
    return opened


# --- ledger ------------------------------------------------------------------------------------------------------


async def test_open_entries_for_agent_lists_only_that_agents_open_entries(backend: Backend) -> None:
    uow = await backend.fresh()
    await save_entries(
        uow,
        [
            entry(AGENT_1, "i-0000000b", at(10, 1)),
            entry(AGENT_1, "i-0000000a", at(10, 2)),
            entry(AGENT_1, "i-0000000c", at(10, 1), at(10, 3)),
            entry(AGENT_2, "i-0000000d", at(10, 1)),
        ],
    )
    await uow.commit()

    found = await (await backend.fresh()).ledger.open_entries_for_agent(AGENT_1)

    assert [e.instance_id for e in found] == ["i-0000000a", "i-0000000b"]
    assert found[0].price == Decimal("0.0125")
    assert found[0].baseline == ONDEMAND


async def test_agents_with_open_entries_pages_by_agent_id(backend: Backend) -> None:
    uow = await backend.fresh()
    await save_entries(
        uow,
        [
            entry(AGENT_3, "i-00000003", at(10)),
            entry(AGENT_1, "i-00000001", at(10)),
            entry(AGENT_1, "i-00000011", at(10)),
            entry(AGENT_2, "i-00000002", at(9), at(10)),
        ],
    )
    await uow.commit()

    reader = await backend.fresh()
    first = await reader.ledger.agents_with_open_entries(1)
    rest = await reader.ledger.agents_with_open_entries(5, after=AGENT_1)

    assert first == [AgentRef(client_id=CLIENT, agent_id=AGENT_1)]
    assert rest == [AgentRef(client_id=CLIENT, agent_id=AGENT_3)]


async def test_entries_for_day_are_the_closed_ones_started_in_it_and_the_open_ones_started_before_its_end(
    backend: Backend,
) -> None:
    uow = await backend.fresh()
    await save_entries(
        uow,
        [
            entry(AGENT_1, "i-0000000a", at(9, 20), at(10)),  # yesterday's
            entry(AGENT_1, "i-0000000a", at(10), at(10, 9)),  # in the day
            entry(AGENT_1, "i-0000000b", at(10, 23, 59)),  # open, started in the day
            entry(AGENT_2, "i-0000000c", at(8)),  # open since before the day (accrual behind)
            entry(AGENT_2, "i-0000000d", at(11)),  # open, starts at the day's end
            entry(AGENT_3, "i-0000000e", at(10, 1), at(10, 2), client=ClientId("other")),
        ],
    )
    await uow.commit()

    found = await (await backend.fresh()).ledger.entries_for_day(CLIENT, date(2026, 3, 10))

    assert [(e.instance_id, e.started_at) for e in found] == [
        ("i-0000000c", at(8)),
        ("i-0000000a", at(10)),
        ("i-0000000b", at(10, 23, 59)),
    ]


async def test_agents_with_live_commands_skips_agents_with_only_terminal_commands(backend: Backend) -> None:
    uow = await backend.fresh()
    agents = {a: make_agent(CLIENT, agent_id=a, logical_agent_id=f"web-{a}") for a in (AGENT_1, AGENT_2, AGENT_3)}
    await uow.clients.add(make_client(client_id=CLIENT))
    for agent in agents.values():
        await uow.agents.add(agent)
    await uow.commands.add(make_command(agents[AGENT_1], command_id="c1"))
    await uow.commands.add(make_command(agents[AGENT_2], command_id="c2", status=CommandStatus.COMPLETED))
    await uow.commands.add(make_command(agents[AGENT_3], command_id="c3", status=CommandStatus.DELIVERED))
    await uow.commands.add(make_command(agents[AGENT_3], command_id="c4", idempotency_key="k4"))
    await uow.commit()

    reader = await backend.fresh()

    assert await reader.commands.agents_with_live_commands(10) == [
        AgentRef(client_id=CLIENT, agent_id=AGENT_1),
        AgentRef(client_id=CLIENT, agent_id=AGENT_3),
    ]
    assert await reader.commands.agents_with_live_commands(10, after=AGENT_1) == [
        AgentRef(client_id=CLIENT, agent_id=AGENT_3)
    ]


# --- snapshots ---------------------------------------------------------------------------------------------------

FIGURES = DailySavings(
    baseline_cost=Decimal("0.99840000"),
    primary_cost=Decimal("0.31422000"),
    overhead_cost=Decimal("0.01029167"),
    hours=SavingsHours(
        primary=Decimal(24), spot=Decimal(24), standby=Decimal("0.75"), kept_old=Decimal(1) / 30,
        priced_primary=Decimal(24),
    ),
    switch_count=1,
    failover_count=1,
    day=date(2026, 3, 10),
    instance_count=2,
)  # fmt: skip


async def test_daily_snapshot_reads_back_field_for_field_and_is_revised_in_place(backend: Backend) -> None:
    uow = await backend.fresh()
    await owners(uow)
    await uow.snapshots.add_daily(SavingsDailySnapshot.of(CLIENT, FIGURES, final=False, now=at(10, 12)))
    await uow.commit()

    reviser = await backend.fresh()
    [stored] = await reviser.snapshots.list_daily(CLIENT, date(2026, 3, 1), date(2026, 3, 31))
    fresh = SavingsDailySnapshot.of(CLIENT, FIGURES, final=True, now=at(11, 0, 15))
    assert stored.revise(fresh)
    await reviser.commit()

    [loaded] = await (await backend.fresh()).snapshots.list_daily(CLIENT, date(2026, 3, 10), date(2026, 3, 10))
    assert (loaded.final, loaded.computed_at, loaded.instance_count) == (True, at(11, 0, 15), 2)
    assert loaded.figures == SavingsDailySnapshot.of(CLIENT, FIGURES, final=True, now=at(11)).figures
    assert loaded.figures.savings == Decimal("0.67388833")
    assert loaded.figures.savings_percent == Decimal("67.50")
    assert loaded.savings.savings == FIGURES.savings
    assert await (await backend.fresh()).snapshots.list_daily(CLIENT, date(2026, 3, 11), date(2026, 3, 31)) == []


async def test_a_second_snapshot_of_one_key_is_a_conflict(backend: Backend) -> None:
    uow = await backend.fresh()
    await owners(uow)
    await uow.snapshots.add_daily(SavingsDailySnapshot.of(CLIENT, FIGURES, final=True, now=at(11)))
    await uow.commit()

    async def add_again() -> None:
        again = await backend.fresh()
        await again.snapshots.add_daily(SavingsDailySnapshot.of(CLIENT, FIGURES, final=False, now=at(11, 1)))
        await again.commit()  # the fake refuses at once, the table's key at commit

    with pytest.raises(ConflictError):
        await add_again()


async def test_monthly_and_growth_snapshots_read_back(backend: Backend) -> None:
    month = MonthlySavings(baseline_cost=Decimal("1.5"), primary_cost=Decimal("0.5"), year=2026, month=2, days=28)
    uow = await backend.fresh()
    await owners(uow)
    await uow.snapshots.add_monthly(SavingsMonthlySnapshot.of(CLIENT, month, final=True, now=at(1, 0, 25)))
    for day, active in ((date(2026, 3, 8), None), (date(2026, 3, 9), 3)):
        await uow.snapshots.add_growth(
            ClientGrowthSnapshot(day=day, total_clients=4, new_clients=1, active_clients=active, computed_at=at(10))
        )
    await uow.commit()

    reader = await backend.fresh()
    loaded = await reader.snapshots.get_monthly(CLIENT, 2026, 2)
    growth = await reader.snapshots.list_growth(date(2026, 3, 1), date(2026, 3, 9))

    assert loaded is not None
    assert (loaded.final, loaded.days, loaded.figures.savings) == (True, 28, Decimal(1))
    assert await reader.snapshots.get_monthly(CLIENT, 2026, 3) is None
    assert [(g.day, g.active_clients) for g in growth] == [(date(2026, 3, 8), None), (date(2026, 3, 9), 3)]


async def test_snapshot_counts_read_clients_switches_and_failovers(backend: Backend) -> None:
    uow = await backend.fresh()
    clients = [
        make_client(client_id=ClientId("c-1"), created_at=at(1)),
        make_client(client_id=ClientId("c-2"), created_at=at(9, 12)),
        make_client(client_id=ClientId("c-3"), created_at=at(2), status=ClientStatus.INACTIVE, deleted_at=at(9, 6)),
    ]
    for client in clients:
        await uow.clients.add(client)
    agent = make_agent(ClientId("c-1"))
    await uow.agents.add(agent)
    await uow.switches.add(make_switch(agent, received_at=at(9, 23, 59)))
    await uow.switches.add(make_switch(agent, received_at=at(10), new=make_switch(agent).old))
    await uow.episodes.add(make_episode(agent, state=EpisodeState.FAILED_OVER, closed_at=at(9, 14)))
    await uow.episodes.add(make_episode(agent, state=EpisodeState.CLEARED, closed_at=at(9, 15)))
    await uow.commit()

    s = (await backend.fresh()).snapshots
    day_start, day_end = at(9), at(10)

    assert await s.count_switches(ClientId("c-1"), day_start, day_end) == 1
    assert await s.count_failovers(ClientId("c-1"), day_start, day_end) == 1
    assert await s.count_clients(existing_at=day_end) == 2
    assert await s.count_clients(existing_at=at(9, 6)) == 2  # deleted at that very moment: still existing
    assert await s.count_new_clients(day_start, day_end) == 1
    assert await s.count_active_clients() == 2
    assert await s.first_client_created_at() == at(1)
    lifetimes = await s.client_lifetimes(2)
    assert [c.client_id for c in lifetimes] == ["c-1", "c-2"]
    assert [c.deleted_at for c in await s.client_lifetimes(5, after=ClientId("c-2"))] == [at(9, 6)]


# --- retention ---------------------------------------------------------------------------------------------------


async def test_retention_store_deletes_the_same_rows_as_the_fake(backend: Backend) -> None:
    uow = await backend.fresh()
    cases = await seed(uow)

    result = await CleanRetention(uow, FixedClock(NOW), backend.retention()).execute(CleanRetentionCommand())

    survivors = await backend.survivors()
    survivors["events"] = {m for m in survivors["events"] if not m.startswith("Retention cleanup")}
    assert survivors == expected_survivors(cases)
    assert result.total == 11


# --- the jobs end to end -----------------------------------------------------------------------------------------


async def test_accrual_and_daily_snapshot_write_the_split_ledger_and_its_figures(backend: Backend) -> None:
    uow = await backend.fresh()
    client = make_client(client_id=CLIENT, created_at=at(9, 20))
    agent = make_agent(CLIENT, agent_id=AGENT_1)
    instance = make_instance(AGENT_1, CLIENT, first_seen_at=at(9, 20), role_changed_at=at(9, 20))
    await uow.clients.add(client)
    await uow.agents.add(agent)
    await uow.instances.add(instance)
    await uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", ONDEMAND, "aws", at(1)))
    await uow.pricing.add_pool(SpotPool(POOL_A, "t3.medium", "us-east-1", "us-east-1a", at(1), at(10)))
    prices = ((at(9, 20), "0.012500"), (at(10, 9), "0.014000"), (at(10, 20), "0.014000"))
    for bucket in (make_bucket(POOL_A, start, price) for start, price in prices):
        await uow.buckets.save([bucket])
    await uow.ledger.save(
        open_entry(instance, at(9, 20), at(9, 20), price=LedgerPrice(Decimal("0.0125")), baseline=ONDEMAND).changed
    )
    await uow.commit()

    for now in (at(10, 0, 2), at(10, 9, 7), at(11, 0, 2)):
        accrual = await backend.fresh()
        await AccrueLedger(accrual, FixedClock(now), LedgerBook(accrual)).execute(AccrueLedgerCommand())
    snapshots = await backend.fresh()
    await SnapshotSavings(snapshots, FixedClock(at(11, 0, 15))).execute(SnapshotSavingsCommand())

    reader = await backend.fresh()
    day = await reader.ledger.entries_for_day(CLIENT, date(2026, 3, 10))
    [snapshot] = await reader.snapshots.list_daily(CLIENT, date(2026, 3, 10), date(2026, 3, 10))
    assert [(e.started_at, e.ended_at, e.close_reason) for e in day] == [
        (at(10), at(10, 9), Reason.PRICE_CHANGE),
        (at(10, 9), at(11), Reason.DAY_BOUNDARY),
    ]
    assert snapshot.final
    assert snapshot.figures.savings == sum((e.savings or Decimal(0) for e in day), Decimal(0))
    assert snapshot.figures.savings == Decimal("0.26190000") + Decimal("0.41400000")
    assert timedelta(0) < snapshot.computed_at - at(11) < timedelta(hours=1)
