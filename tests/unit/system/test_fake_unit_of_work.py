"""The in-memory unit of work is honest (house style §13): it keeps changes apart until commit and discards them on
rollback or at the end of the scope, exactly as the SQL one does (CC-1: one use case, one transaction).

The contract part runs the same assertions against the fake and the SQL adapter (on SQLite here); the rest pins the
fake's own promises (object identity across a rollback, counters, set-up writes) and shows that a use case that
forgets to commit, or fails half-way, leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.clients.client import Client
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.shared.events import Severity
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, new_id
from spotopt.domain.system.retention import RetentionRule
from tests.factories.agents import make_agent, make_client, make_instance, make_register, make_sighting
from tests.factories.common import NEW, OLD, T0
from tests.factories.ledger import port
from tests.factories.pricing import make_bucket
from tests.factories.world import AgentWorld
from tests.fakes.notifications import InMemoryEventRepository
from tests.fakes.store import InMemoryStore
from tests.fakes.system import InMemoryRetentionStore
from tests.fakes.uow import InMemoryUnitOfWork, InScope
from tests.http_app import make_settings, reset_database
from tests.services import sqlite_url

# --- contract: the fake and the SQL unit of work agree ---------------------------------------------------------------


class Backend(Protocol):
    def scope(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A REQUEST scope: a unit of work whose uncommitted work is discarded when the block ends."""
        ...


@dataclass
class MemoryBackend:
    store: InMemoryStore

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[UnitOfWork]:
        async with InMemoryUnitOfWork(self.store) as uow:
            yield port(uow)


@dataclass
class SqlBackend:
    sessions: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            yield port(SqlAlchemyUnitOfWork(session))


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("fake-uow-contract")
    settings = make_settings(sqlite_url(tmp), tmp)
    reset_database(settings)
    return settings.database_url


@pytest.fixture(params=["in-memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, sqlite_database: str) -> AsyncIterator[Backend]:
    if request.param == "in-memory":
        yield MemoryBackend(InMemoryStore())
        return
    engine = create_engine(sqlite_database)
    try:
        yield SqlBackend(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def seeded(backend: Backend) -> tuple[Client, Agent]:
    """A client, its agent on OLD and an unattached sighting of NEW, committed."""
    client = make_client()
    agent = make_agent(client.client_id, logical_agent_id=f"web-{new_id()[:8]}", hostname="before")
    async with backend.scope() as uow:
        await uow.clients.add(client)
        await uow.agents.add(agent)
        await uow.instances.add(make_instance(agent.agent_id, client.client_id))
        await uow.sightings.add(make_sighting(agent))
        await uow.commit()
    return client, agent


async def test_cc1_work_not_committed_ends_with_the_scope(backend: Backend) -> None:
    client = make_client()
    async with backend.scope() as uow:
        await uow.clients.add(client)
        await uow.agents.add(make_agent(client.client_id))
    async with backend.scope() as uow:
        assert await uow.clients.get(client.client_id) is None


async def test_cc1_rollback_discards_adds_updates_and_deletes(backend: Backend) -> None:
    client, agent = await seeded(backend)
    async with backend.scope() as uow:
        await uow.instances.add(make_instance(agent.agent_id, client.client_id, instance_id=InstanceId(NEW)))
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "after"
        sighting = await uow.sightings.get(client.client_id, NEW)
        assert sighting is not None
        await uow.sightings.delete(sighting)

        await uow.rollback()

        again = await uow.agents.get(client.client_id, agent.agent_id)
        assert again is not None
        assert again.hostname == "before"
        assert await uow.instances.get(client.client_id, NEW) is None
        assert await uow.sightings.get(client.client_id, NEW) is not None
    async with backend.scope() as uow:
        instances = await uow.instances.list_for_agent(agent.agent_id)
        assert [i.instance_id for i in instances] == [OLD]


async def test_cc1_rollback_returns_to_the_last_commit_not_before_it(backend: Backend) -> None:
    client, agent = await seeded(backend)
    async with backend.scope() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "committed"
        await uow.commit()
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "discarded"
        await uow.rollback()
    async with backend.scope() as uow:
        again = await uow.agents.get(client.client_id, agent.agent_id)
    assert again is not None
    assert again.hostname == "committed"


async def write_then_fail(backend: Backend, client: Client, agent: Agent) -> None:
    async with backend.scope() as uow:
        loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
        assert loaded is not None
        loaded.hostname = "half-written"
        await uow.instances.add(make_instance(agent.agent_id, client.client_id, instance_id=InstanceId(NEW)))
        raise RuntimeError("failed half-way")


async def test_cc1_a_failure_half_way_leaves_nothing(backend: Backend) -> None:
    client, agent = await seeded(backend)
    with pytest.raises(RuntimeError, match="half-way"):
        await write_then_fail(backend, client, agent)
    async with backend.scope() as uow:
        again = await uow.agents.get(client.client_id, agent.agent_id)
        assert await uow.instances.get(client.client_id, NEW) is None
    assert again is not None
    assert again.hostname == "before"


# --- the fake's own promises -----------------------------------------------------------------------------------------


async def committed_agent(uow: InMemoryUnitOfWork) -> tuple[Client, Agent]:
    client = make_client()
    agent = make_agent(client.client_id, hostname="before")
    await uow.clients.add(client)
    await uow.agents.add(agent)
    await uow.sightings.add(make_sighting(agent))
    await uow.commit_setup()
    return client, agent


async def test_rollback_restores_the_same_objects_in_place(uow: InMemoryUnitOfWork) -> None:
    client, agent = await committed_agent(uow)
    sighting = uow.store.sightings[(client.client_id, NEW)]
    loaded = await uow.agents.get_for_update(client.client_id, agent.agent_id)
    assert loaded is agent
    agent.hostname, agent.enabled = "after", False
    await uow.sightings.delete(sighting)
    await uow.agents.add(make_agent(client.client_id, logical_agent_id="web-2"))

    await uow.rollback()

    assert (agent.hostname, agent.enabled) == ("before", True)  # the test's reference is reset, not replaced
    assert uow.store.agents == {agent.agent_id: agent}
    assert uow.store.sightings[(client.client_id, NEW)] is sighting


async def test_rollback_discards_appended_rows_and_set_members(uow: InMemoryUnitOfWork) -> None:
    await committed_agent(uow)
    await uow.events.add_event(SystemEvent(new_id(), "test", Severity.INFO, "noise", T0))
    await uow.admin_tokens.add("hash", "hint", T0)

    await uow.rollback()

    assert uow.store.events == []
    assert uow.store.admin_tokens == set()


async def test_a_mutable_field_changed_in_place_is_restored(uow: InMemoryUnitOfWork) -> None:
    event = SystemEvent(new_id(), "test", Severity.INFO, "kept", T0, metadata={"count": 1})
    uow.store.events.append(event)  # set-up outside a transaction: committed state
    await uow.events.add_event(SystemEvent(new_id(), "test", Severity.INFO, "dropped", T0))
    event.metadata["count"] = 2

    await uow.rollback()

    assert uow.store.events == [event]
    assert event.metadata == {"count": 1}


async def test_retention_purges_are_part_of_the_transaction(uow: InMemoryUnitOfWork) -> None:
    old = SystemEvent(new_id(), "test", Severity.INFO, "old", T0 - timedelta(days=400))
    uow.store.events.append(old)
    purged = await InMemoryRetentionStore(uow.store).purge(RetentionRule.INFO_WARNING_EVENTS, T0, 10)
    assert (purged, uow.store.events) == (1, [])

    await uow.rollback()

    assert uow.store.events == [old]


async def test_buckets_are_handed_out_as_copies_so_their_rows_never_change_in_place(uow: InMemoryUnitOfWork) -> None:
    bucket = make_bucket("t3.medium.us-east-1a", T0, "0.0125")
    uow.buckets.put(bucket)
    latest = (await uow.buckets.latest([bucket.pool_id], T0))[bucket.pool_id]
    latest.spot_price = Decimal("9")
    await uow.buckets.delete([bucket])

    await uow.rollback()

    assert uow.store.buckets == {bucket.key: bucket}
    assert bucket.spot_price == Decimal("0.0125")


async def test_counters_count_the_use_cases_own_calls_only(uow: InMemoryUnitOfWork) -> None:
    await committed_agent(uow)  # commit_setup: not a use-case commit
    assert (uow.commits, uow.rollbacks, uow.committed) == (0, 0, False)
    await uow.commit()
    await uow.rollback()
    await uow.close()
    assert (uow.commits, uow.rollbacks, uow.committed) == (1, 1, True)


async def test_set_up_written_while_no_transaction_is_open_is_committed_state(uow: InMemoryUnitOfWork) -> None:
    client = make_client()
    uow.store.clients[client.client_id] = client
    await uow.clients.add(make_client())  # opens the transaction
    late = make_client()
    uow.store.clients[late.client_id] = late  # written inside the transaction: discarded with it

    await uow.close()

    assert uow.store.clients == {client.client_id: client}
    assert not uow.store.in_transaction


# --- use cases: a missing commit and a failure half-way show up as lost state ---------------------------------------


class RenameAgent:
    """Deliberately broken: changes the agent and forgets to commit."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, agent_id: AgentId, client_id: ClientId) -> Agent:
        agent = await self._uow.agents.get_for_update(client_id, agent_id)
        assert agent is not None
        agent.hostname = "renamed"
        return agent


async def test_a_use_case_without_commit_loses_its_changes() -> None:
    world = AgentWorld()
    agent = await world.registered(hostname="web-1.internal")
    rename = InScope(RenameAgent(world.uow).execute, world.uow)

    returned = await rename.execute(agent.agent_id, agent.client_id)

    assert returned is agent
    assert agent.hostname == "web-1.internal"
    assert world.uow.store.agents[agent.agent_id].hostname == "web-1.internal"


class FailingEvents(InMemoryEventRepository):
    """The events table rejects the write that comes after everything else a registration writes."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.rows_written_before: int | None = None

    async def add_event(self, event: SystemEvent) -> None:
        self.rows_written_before = len(self.store.agents) + len(self.store.instances) + len(self.store.ledger)
        raise RuntimeError("events table unavailable")


async def test_cc1_a_use_case_that_raises_after_writing_leaves_nothing() -> None:
    world = AgentWorld()
    client = await world.add_client()
    before = repr(world.uow.store)
    world.uow.events = events = FailingEvents(world.uow.store)

    with pytest.raises(RuntimeError, match="events table unavailable"):
        await world.register.execute(make_register(client.client_id))

    assert events.rows_written_before == 3  # the agent, its primary and its ledger entry were written …
    assert repr(world.uow.store) == before  # … and are gone with the scope
    assert world.uow.commits == 0
