"""CC-3: a locking read returns the row as it is now, even when the transaction had read it before the lock
(the identity map must not hand back the pre-lock state; found by review: heartbeat adoption vs a switch).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.domain.shared.ids import new_id
from tests import services
from tests.factories.agents import make_agent, make_client
from tests.http_app import make_settings, reset_database


async def test_cc3_a_locking_read_refreshes_an_entity_read_before_the_lock(tmp_path: Path) -> None:
    url = services.test_database_url(tmp_path)
    if url.startswith("sqlite"):
        pytest.skip("SQLite serialises whole transactions (BEGIN IMMEDIATE): no write can land between the reads")
    reset_database(make_settings(url, tmp_path))
    engine = create_engine(url, pool_size=2)
    sessions = create_sessionmaker(engine)
    try:
        client = make_client()
        agent = make_agent(client.client_id, logical_agent_id=f"web-{new_id()[:8]}", hostname="before")
        async with sessions() as session:
            uow = SqlAlchemyUnitOfWork(session)
            await uow.clients.add(client)
            await uow.agents.add(agent)
            await uow.commit()
        async with sessions() as first, sessions() as second:
            reader, writer = SqlAlchemyUnitOfWork(first), SqlAlchemyUnitOfWork(second)
            seen = await reader.agents.get(client.client_id, agent.agent_id)
            assert seen is not None
            assert seen.hostname == "before"
            changed = await writer.agents.get_for_update(client.client_id, agent.agent_id)
            assert changed is not None
            changed.hostname = "after"
            await writer.commit()
            locked = await reader.agents.get_for_update(client.client_id, agent.agent_id)
            assert locked is seen  # one object per row in a transaction
            assert locked.hostname == "after"  # ... brought up to the row read under the lock
    finally:
        await engine.dispose()
