"""The retention cleaner (domain §7.2 "Retention cleaner", §7.3; JB-5): guards, boundaries, batches, time limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.repositories.retention import SqlAlchemyRetentionStore
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ports.system import RetentionStore
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.system.clean_retention import CleanRetention, CleanRetentionCommand
from spotopt.domain.pricing.market import PricingReport
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId
from spotopt.domain.system.retention import RetentionRule, retention_cutoff
from tests.factories.ledger import port
from tests.factories.retention import NOW, ago, expected_survivors, seed, survivors_in_database, survivors_in_memory
from tests.fakes.system import FixedClock, InMemoryRetentionStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database
from tests.services import sqlite_url


@dataclass
class Backend:
    uow: UnitOfWork
    store: RetentionStore
    session: AsyncSession | None = None
    fake: InMemoryUnitOfWork | None = None

    async def survivors(self) -> dict[str, set[str]]:
        if self.fake is not None:
            return survivors_in_memory(self.fake.store)
        assert self.session is not None
        return await survivors_in_database(self.session)


@pytest.fixture(params=["in-memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "in-memory":
        fake = InMemoryUnitOfWork()
        yield Backend(port(fake), InMemoryRetentionStore(fake.store), fake=fake)
        return
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        yield Backend(port(SqlAlchemyUnitOfWork(session)), SqlAlchemyRetentionStore(session), session=session)
    await engine.dispose()


class TickingClock(FixedClock):
    """Each reading of the clock is ``step`` later than the previous one."""

    def __init__(self, now: datetime, step: timedelta) -> None:
        super().__init__(now)
        self.step = step

    def now(self) -> datetime:
        current = self.current
        self.current += self.step
        return current


async def test_retention_deletes_only_expired_terminal_records_and_keeps_every_guarded_one(backend: Backend) -> None:
    cases = await seed(backend.uow)

    result = await CleanRetention(backend.uow, FixedClock(NOW), backend.store).execute(CleanRetentionCommand())

    survivors = await backend.survivors()
    expected = expected_survivors(cases)
    for kind, kept in expected.items():
        found = {key for key in survivors[kind] if not key.startswith("Retention cleanup")}
        assert found == kept, kind
    assert result.complete
    assert result.deleted == {
        "pricing_reports": 1,
        "terminal_commands": 1,
        "closed_episodes": 1,
        "terminal_replicas": 2,
        "terminated_instances": 1,
        "closed_ledger_entries": 1,
        "read_notifications": 1,
        "unread_notifications": 1,
        "info_warning_events": 1,
        "error_critical_events": 1,
    }


async def test_retention_run_ends_with_a_data_cleanup_event_carrying_the_counts(backend: Backend) -> None:
    await seed(backend.uow)

    await CleanRetention(backend.uow, FixedClock(NOW), backend.store).execute(CleanRetentionCommand())

    survivors = await backend.survivors()
    assert "Retention cleanup deleted 11 row(s)." in survivors["events"]


async def test_retention_repeated_run_deletes_nothing_more(backend: Backend) -> None:
    await seed(backend.uow)
    sut = CleanRetention(backend.uow, FixedClock(NOW), backend.store)
    await sut.execute(CleanRetentionCommand())
    before = await backend.survivors()

    again = await sut.execute(CleanRetentionCommand())

    after = await backend.survivors()
    assert again.deleted == {}
    assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}


def _report(key: str, received_at: datetime) -> PricingReport:
    return PricingReport(
        key, ClientId("c"), AgentId("a"), InstanceId("i-0000000a"), "t3.medium", "us-east-1", "us-east-1a", "spot",
        received_at,
    )  # fmt: skip


async def test_jb5_each_statement_deletes_at_most_one_batch_and_every_batch_commits() -> None:
    uow = InMemoryUnitOfWork()
    uow.store.reports += [_report(f"p{n}", ago(40)) for n in range(5)]
    store = InMemoryRetentionStore(uow.store)

    result = await CleanRetention(port(uow), FixedClock(NOW), store).execute(CleanRetentionCommand(batch_size=2))

    report_calls = [limit for rule, _, limit in store.calls if rule is RetentionRule.PRICING_REPORTS]
    assert report_calls == [2, 2, 2]
    assert result.deleted == {"pricing_reports": 5}
    assert uow.commits == len(store.calls) + 1  # one per batch, one for the event


async def test_jb5_run_stops_at_a_batch_boundary_when_its_time_is_spent() -> None:
    uow = InMemoryUnitOfWork()
    uow.store.reports += [_report(f"p{n}", ago(40)) for n in range(5)]
    store = InMemoryRetentionStore(uow.store)
    clock = TickingClock(NOW, timedelta(minutes=6))

    result = await CleanRetention(port(uow), clock, store).execute(CleanRetentionCommand(batch_size=2))

    assert (result.complete, result.deleted) == (False, {"pricing_reports": 4})
    assert len(store.calls) == 2
    [event] = uow.store.events
    assert (event.type, event.metadata["complete"]) == ("data_cleanup", False)
    assert "next run continues" in event.message


def test_jb5_batches_and_run_time_are_bounded_by_the_spec() -> None:
    with pytest.raises(InvalidValueError):
        CleanRetentionCommand(batch_size=5001)
    with pytest.raises(InvalidValueError):
        CleanRetentionCommand(budget=timedelta(minutes=16))


def test_retention_periods_follow_the_spec_table() -> None:
    assert retention_cutoff(RetentionRule.CLOSED_LEDGER_ENTRIES, NOW) == NOW - timedelta(days=400)
    assert retention_cutoff(RetentionRule.UNREAD_NOTIFICATIONS, NOW) == NOW - timedelta(days=90)
    assert retention_cutoff(RetentionRule.UNATTACHED_SIGHTINGS, NOW) == NOW - timedelta(days=7)
    assert retention_cutoff(RetentionRule.DAILY_SAVINGS, NOW) == NOW.replace(year=2021)
    leap = NOW.replace(year=2028, month=2, day=29)
    assert retention_cutoff(RetentionRule.DAILY_SAVINGS, leap) == leap.replace(year=2023, day=28)
