"""CC-3: every locking read returns the row as it is now, even when the transaction had read it before the lock
(the identity map must not hand back the pre-lock state; found by review: heartbeat adoption vs a switch), and
keeps what the transaction itself changed (written first). Two transactions at once: MariaDB only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.clients.client import Client
from spotopt.domain.pricing.market import OnDemandPrice
from spotopt.domain.shared.ids import new_id
from tests import services
from tests.factories.agents import make_agent, make_client
from tests.factories.common import T0
from tests.http_app import make_settings, reset_database

AgentRead = Callable[[SqlAlchemyUnitOfWork, Agent], Awaitable[Agent | None]]
LOCKING_AGENT_READS: dict[str, AgentRead] = {
    "get_for_update": lambda uow, a: uow.agents.get_for_update(a.client_id, a.agent_id),
    "get_for_update_skip_locked": lambda uow, a: uow.agents.get_for_update_skip_locked(a.client_id, a.agent_id),
    "get_for_update_bounded": lambda uow, a: uow.agents.get_for_update_bounded(a.client_id, a.agent_id, wait_seconds=2),
    "find_active_by_logical_id": lambda uow, a: uow.agents.find_active_by_logical_id(
        a.client_id, a.logical_agent_id, for_update=True
    ),
}


@dataclass
class Db:
    sessions: async_sessionmaker[AsyncSession]

    async def seeded(self) -> tuple[Client, Agent]:
        client = make_client()
        agent = make_agent(client.client_id, logical_agent_id=f"web-{new_id()[:8]}", hostname="before")
        async with self.sessions() as session:
            uow = SqlAlchemyUnitOfWork(session)
            await uow.clients.add(client)
            await uow.agents.add(agent)
            await uow.commit()
        return client, agent


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("locking-reads")
    url = services.test_database_url(tmp)
    if url.startswith("sqlite"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE): no write can land between the reads")
    reset_database(make_settings(url, tmp))
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield Db(create_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("read", LOCKING_AGENT_READS.values(), ids=LOCKING_AGENT_READS.keys())
async def test_cc3_a_locking_read_refreshes_an_agent_read_before_the_lock(db: Db, read: AgentRead) -> None:
    client, agent = await db.seeded()
    async with db.sessions() as first, db.sessions() as second:
        reader, writer = SqlAlchemyUnitOfWork(first), SqlAlchemyUnitOfWork(second)
        seen = await reader.agents.get(client.client_id, agent.agent_id)
        assert seen is not None
        seen.enabled = False  # this transaction's own change, not written yet
        changed = await writer.agents.get_for_update(client.client_id, agent.agent_id)
        assert changed is not None
        changed.hostname = "after"
        await writer.commit()
        locked = await read(reader, agent)
        assert locked is seen  # one object per row in a transaction
        assert (locked.hostname, locked.enabled) == ("after", False)  # the row now, with this transaction's change
        await reader.commit()
    async with db.sessions() as session:
        stored = await SqlAlchemyUnitOfWork(session).agents.get(client.client_id, agent.agent_id)
    assert stored is not None
    assert (stored.hostname, stored.enabled) == ("after", False)


async def test_cc3_a_locking_read_refreshes_a_client_read_before_the_lock(db: Db) -> None:
    client, _ = await db.seeded()
    async with db.sessions() as first, db.sessions() as second:
        reader, writer = SqlAlchemyUnitOfWork(first), SqlAlchemyUnitOfWork(second)
        seen = await reader.clients.get(client.client_id)
        changed = await writer.clients.get_for_update(client.client_id)
        assert seen is not None
        assert changed is not None
        changed.max_agents = 9
        await writer.commit()
        locked = await reader.clients.get_for_update(client.client_id)
    assert locked is seen
    assert locked.max_agents == 9


async def test_cc3_ensure_ondemand_returns_the_catalogue_row_as_it_is_now(db: Db) -> None:
    instance_type = f"t{new_id()[:6]}.large"
    initial = OnDemandPrice(instance_type, "us-east-1", Decimal("0.0416"), "agent", T0)
    async with db.sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.pricing.add_ondemand(initial)
        await uow.commit()
    async with db.sessions() as first, db.sessions() as second:
        reader, writer = SqlAlchemyUnitOfWork(first), SqlAlchemyUnitOfWork(second)
        seen = await reader.pricing.get_ondemand(instance_type, "us-east-1")
        bumped = await writer.pricing.ensure_ondemand(initial)
        bumped.observation_count, bumped.observed_at = 5, T0 + timedelta(hours=1)
        await writer.commit()
        locked = await reader.pricing.ensure_ondemand(initial)
    assert locked is seen
    assert (locked.observation_count, locked.observed_at) == (5, T0 + timedelta(hours=1))
