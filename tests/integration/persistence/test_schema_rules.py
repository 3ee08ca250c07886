"""What the schema itself guarantees on the real database (SQL only: the fakes have no foreign keys).

- A row owned by an agent names its client's agent: a row naming another client's agent is refused (CL-4).
- Purging a client takes its operational rows with it and no other client's; ledger entries are never deleted
  implicitly (§7.3: they follow their own retention), so a client or agent that has them cannot be purged.
- A pointer to a purged row is cleared, the row that held it stays (a switch outlives its command, §7.3).
- The unit of work writes only the columns that changed, and a rollback forgets every change made before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.clients import ClientModel
from spotopt.adapters.persistence.models.commands import CommandModel, SwitchModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.repositories.retention import SqlAlchemyRetentionStore
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.errors import ConflictError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.clients.client import Client
from spotopt.domain.ledger.accrual import open_entry
from spotopt.domain.shared.ids import new_id
from spotopt.domain.system.retention import RetentionRule
from tests import services
from tests.factories.agents import make_agent, make_client, make_instance
from tests.factories.commands import make_command, make_switch
from tests.factories.common import T0
from tests.factories.replicas import make_episode
from tests.http_app import make_settings, reset_database


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("schema-rules")
    settings = make_settings(services.test_database_url(tmp), tmp)
    reset_database(settings)
    return settings.database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


async def tenant(sessions: async_sessionmaker[AsyncSession]) -> tuple[Client, Agent]:
    client = make_client()
    agent = make_agent(client.client_id, logical_agent_id=f"web-{new_id()[:8]}")
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.clients.add(client)
        await uow.agents.add(agent)
        await uow.commit()
    return client, agent


async def count(engine: AsyncEngine, model: Any, **where: str) -> int:
    table = table_of(model)
    stmt = select(func.count()).select_from(table).where(*(table.c[k] == v for k, v in where.items()))
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_cl4_a_row_naming_another_clients_agent_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    mine, _ = await tenant(sessions)
    _, theirs = await tenant(sessions)
    stray = make_command(theirs)
    stray.client_id = mine.client_id
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.commands.add(stray)
        with pytest.raises(ConflictError):
            await uow.commit()


async def test_purging_a_client_takes_its_rows_and_no_other_clients(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    gone, agent = await tenant(sessions)
    kept, other = await tenant(sessions)
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        for owner in (agent, other):
            await uow.episodes.add(make_episode(owner))
            await uow.commands.add(make_command(owner))
            await uow.instances.add(make_instance(owner.agent_id, owner.client_id))
        await uow.commit()
    async with engine.begin() as conn:
        await conn.execute(delete(table_of(ClientModel)).where(table_of(ClientModel).c.client_id == gone.client_id))
    owned = (AgentModel, CommandModel, EpisodeModel, InstanceModel)
    assert [await count(engine, model, client_id=gone.client_id) for model in owned] == [0, 0, 0, 0]
    assert [await count(engine, model, client_id=kept.client_id) for model in owned] == [1, 1, 1, 1]


async def test_s7_3_ledger_entries_keep_their_client_agent_and_instance(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client, agent = await tenant(sessions)
    instance = make_instance(agent.agent_id, client.client_id)
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.instances.add(instance)
        await uow.ledger.save(open_entry(instance, T0, T0).changed)
        await uow.commit()
    clients, agents = table_of(ClientModel), table_of(AgentModel)
    for stmt in (
        delete(clients).where(clients.c.client_id == client.client_id),
        delete(agents).where(agents.c.agent_id == agent.agent_id),
    ):
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(stmt)
    assert await count(engine, AgentModel, agent_id=agent.agent_id) == 1


async def test_s7_3_purging_a_command_keeps_the_switch_and_clears_its_reference(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, agent = await tenant(sessions)
    command = make_command(agent)
    command.complete(T0, "done")
    switch = make_switch(agent, command_id=command.command_id)
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.commands.add(command)
        await uow.switches.add(switch)
        await uow.commit()
    async with sessions() as session:
        purged = await SqlAlchemyRetentionStore(session).purge(RetentionRule.TERMINAL_COMMANDS, T0 + timedelta(1), 10)
        await session.commit()
    switches = table_of(SwitchModel)
    async with engine.connect() as conn:
        kept = (await conn.execute(select(switches.c.command_id).where(switches.c.switch_id == switch.switch_id))).all()
    assert purged >= 1
    assert kept == [(None,)]


async def test_s7_3_k2_a_superseded_command_and_its_successor_are_purged_together(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, agent = await tenant(sessions)
    first, successor = make_command(agent), make_command(agent)
    first.supersede(successor.command_id, T0)
    successor.superseded_command_id = first.command_id
    successor.complete(T0, "done")
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        await uow.commands.add(first)
        await uow.commands.add(successor)
        await uow.commit()
    async with sessions() as session:
        await SqlAlchemyRetentionStore(session).purge(RetentionRule.TERMINAL_COMMANDS, T0 + timedelta(1), 5000)
        await session.commit()
    assert await count(engine, CommandModel, agent_id=agent.agent_id) == 0


async def test_only_the_changed_columns_are_written(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client, agent = await tenant(sessions)
    updates: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE"):
            updates.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with sessions() as session:
            uow = SqlAlchemyUnitOfWork(session)
            loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
            assert loaded is not None
            loaded.hostname = "renamed"
            await uow.commit()
            await uow.commit()  # nothing changed since: no statement
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(updates) == 1
    assert updates[0].split(" SET ")[1].split(" WHERE ")[0] in ("hostname=?", "hostname=%s")


async def test_cc1_a_rollback_forgets_every_change_made_before_it(sessions: async_sessionmaker[AsyncSession]) -> None:
    client, agent = await tenant(sessions)
    async with sessions() as session:
        uow = SqlAlchemyUnitOfWork(session)
        loaded = await uow.agents.get(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "rolled-back"
        await uow.rollback()
        await uow.commands.add(make_command(agent))
        await uow.commit()
        again = await uow.agents.get(client.client_id, agent.agent_id)
    assert again is not None
    assert again is not loaded
    assert again.hostname is None
