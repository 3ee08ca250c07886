"""Issue 8 "read models that answer from indexed queries": the query plans of the three heaviest admin reads
(M9 agents, M8 instances, M10 activity) on SQLite. Each page query walks its ordering index and reaches every
related table by key (no N+1: the statements are counted too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.adapters.persistence.views.admin_activity import SqlAlchemyAdminActivityView
from spotopt.adapters.persistence.views.admin_fleet import SqlAlchemyAdminFleetView
from spotopt.application.ports.admin_views import ActivityFilter, AgentFilter, InstanceFilter
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.replicas.values import ReplicaStatus
from tests.http_app import make_settings, reset_database
from tests.services import sqlite_url
from tests.unit.system.test_admin_views_contract import AgentSpec, build_fleet, persist

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
Read = Callable[[AsyncSession], Awaitable[object]]


async def m9(session: AsyncSession) -> object:
    return await SqlAlchemyAdminFleetView(session).agents(AgentFilter(), limit=50, offset=0)


async def m8(session: AsyncSession) -> object:
    roles = frozenset({InstanceRole.PRIMARY, InstanceRole.STANDBY, InstanceRole.KEPT_OLD})
    return await SqlAlchemyAdminFleetView(session).instances(InstanceFilter(roles=roles), limit=50, offset=0)


async def m10(session: AsyncSession) -> object:
    window = ActivityFilter(since=NOW - timedelta(days=7), until=NOW)
    return await SqlAlchemyAdminActivityView(session).events(window, limit=50, offset=0)


async def plans_of(tmp_path: Path, read: Read) -> list[tuple[str, list[str]]]:
    """Every SELECT ``read`` sends, with SQLite's plan for it (one line per step)."""
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, params))

    try:
        async with create_sessionmaker(engine)() as session:
            await read(session)
            captured = list(sent)
            connection = await session.connection()
            plans = []
            for statement, params in captured:
                rows = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
                plans.append((statement, [str(row[-1]) for row in rows]))
    finally:
        await engine.dispose()
    return plans


@pytest.mark.parametrize(
    ("read", "ordering_index", "keyed"),
    [
        (m9, "ix_agents_last_heartbeat_at", ["clients", "commands", "interruption_episodes"]),
        (m8, "ix_instances_first_seen_at", ["agents", "clients", "ledger_entries"]),
        (m10, "ix_system_events_created_at", []),
    ],
    ids=["M9", "M8", "M10"],
)
async def test_issue8_admin_pages_walk_their_ordering_index_and_reach_related_rows_by_key(
    tmp_path: Path, read: Read, ordering_index: str, keyed: list[str]
) -> None:
    plans = await plans_of(tmp_path, read)
    count, page = plans[0], plans[1]

    assert count[0].startswith("SELECT count(*)")
    assert any(ordering_index in step for step in page[1]), page[1]
    for table in keyed:
        assert any(step.startswith(f"SEARCH {table} USING") for step in page[1]), (table, page[1])
    assert not any(step.startswith("SCAN") and "USING" not in step for step in page[1]), page[1]
    assert len(plans) <= 2  # count + page; the M9 replicas query runs only for a non-empty page


async def selects_of_m9(tmp_path: Path, agents: int) -> int:
    """How many SELECTs one M9 page sends for a fleet of ``agents`` agents with two live replicas each."""
    specs = [
        AgentSpec(
            logical="web",
            deleted=False,
            offline=False,
            enabled=True,
            reported=None,
            heartbeat_minutes=n % 3,
            delivered_switch=False,
            terminating=False,
            replicas=(ReplicaStatus.READY, ReplicaStatus.SYNCING),
            role=InstanceRole.PRIMARY,
            seen_minutes=0,
        )
        for n in range(agents)
    ]
    settings = make_settings(sqlite_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    try:
        async with create_sessionmaker(engine)() as session:
            await persist(build_fleet(specs), SqlAlchemyUnitOfWork(session))
        sent.clear()
        async with create_sessionmaker(engine)() as session:
            listings, _ = await SqlAlchemyAdminFleetView(session).agents(AgentFilter(), limit=50, offset=0)
        assert all(len(row.replicas) == 2 for row in listings)
    finally:
        await engine.dispose()
    return len(sent)


async def test_issue8_m9_statements_do_not_grow_with_the_page(tmp_path: Path) -> None:
    """No N+1: count, page, and one ``agent_id IN (…)`` query for the page's replicas, whatever the page size."""
    small = await selects_of_m9(tmp_path / "small", 2)
    large = await selects_of_m9(tmp_path / "large", 12)

    assert small == large == 3
