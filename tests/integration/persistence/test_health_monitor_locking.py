"""CC-4 on the real database: the health monitor skips an agent a request has locked (MariaDB row locks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spotopt.adapters.clock import SystemClock
from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline
from spotopt.application.agents.timings import AgentTimings
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Liveness
from spotopt.domain.shared.ids import AgentId, ClientId
from tests import services
from tests.factories.agents import make_client
from tests.http_app import make_settings, reset_database

CLIENT = ClientId("client-1")


async def test_cc4_the_monitor_skips_an_agent_locked_by_a_request_and_takes_it_next_tick(tmp_path: Path) -> None:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    if settings.is_embedded_database:
        pytest.skip("SQLite serialises writers instead of locking rows (CC-9); CI runs this on MariaDB")
    reset_database(settings)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.clients.add(make_client(client_id=CLIENT))
        await uow.agents.add(
            Agent(
                agent_id=AgentId("agent-1"),
                client_id=CLIENT,
                logical_agent_id="web-1",
                created_at=now - timedelta(days=1),
                updated_at=now - timedelta(days=1),
                last_heartbeat_at=now - timedelta(minutes=10),
            )
        )
        await uow.commit()

    try:
        async with sessionmaker() as request_session, sessionmaker() as job_session:
            held = await SqlAlchemyUnitOfWork(request_session).agents.get_for_update(CLIENT, "agent-1")
            monitor = MarkStaleAgentsOffline(SqlAlchemyUnitOfWork(job_session), SystemClock(), AgentTimings())
            busy = await monitor.execute()
            await request_session.rollback()
            free = await monitor.execute()
            check = await SqlAlchemyUnitOfWork(request_session).agents.get(CLIENT, "agent-1")
    finally:
        await engine.dispose()

    assert held is not None
    assert busy.skipped == (AgentId("agent-1"),)
    assert free.marked_offline == (AgentId("agent-1"),)
    assert check is not None
    assert check.liveness is Liveness.OFFLINE
