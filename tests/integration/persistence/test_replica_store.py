"""The replica queries on the real database: R2 paging, the coordinator's inputs, and EP-4's bounded agent lock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.failures import is_lock_contention
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.errors import LockContentionError
from spotopt.domain.agents.agent import Agent
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaKind, ReplicaStatus
from spotopt.domain.shared.ids import AgentId, ClientId, ReplicaId
from tests import services
from tests.factories.agents import make_client
from tests.http_app import make_settings, reset_database

CLIENT = ClientId("client-1")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def make_agent(agent_id: str, **overrides: object) -> Agent:
    values: dict[str, object] = {
        "agent_id": AgentId(agent_id), "client_id": CLIENT, "logical_agent_id": agent_id, "created_at": NOW,
        "updated_at": NOW, "auto_switch_enabled": False,
    }  # fmt: skip
    values.update(overrides)
    return Agent(**values)  # type: ignore[arg-type]


def make_replica(agent_id: str, replica_id: str, status: ReplicaStatus, minutes: int) -> Replica:
    return Replica(
        replica_id=ReplicaId(replica_id), client_id=CLIENT, agent_id=AgentId(agent_id), kind=ReplicaKind.MANUAL,
        status=status, pool_id="t3.medium.us-east-1d", instance_type="t3.medium", region="us-east-1",
        az="us-east-1d", created_by="client", created_at=NOW + timedelta(minutes=minutes),
    )  # fmt: skip


async def test_r2_page_and_coordinator_inputs(tmp_path: Path) -> None:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            uow = SqlAlchemyUnitOfWork(session)
            await uow.clients.add(make_client(client_id=CLIENT))
            for agent in (make_agent("a-1", manual_replica_enabled=True), make_agent("a-2"), make_agent("a-3")):
                await uow.agents.add(agent)
            for n, status in enumerate((ReplicaStatus.TERMINATED, ReplicaStatus.READY, ReplicaStatus.LAUNCHING)):
                await uow.replicas.add(make_replica("a-3", f"r-{n}", status, n))
            await uow.commit()
        async with create_sessionmaker(engine)() as session:
            uow = SqlAlchemyUnitOfWork(session)
            live, total = await uow.replicas.page_for_agent(
                AgentId("a-3"), {ReplicaStatus.READY, ReplicaStatus.LAUNCHING}, limit=1, offset=0
            )
            refs = await uow.agents.agents_needing_coordination(10)
            after = await uow.agents.agents_needing_coordination(10, after=AgentId("a-1"))
    finally:
        await engine.dispose()
    assert ([r.replica_id for r in live], total) == (["r-2"], 2)
    assert [r.agent_id for r in refs] == ["a-1", "a-3"]
    assert [r.agent_id for r in after] == ["a-3"]


async def test_ep4_pitfall11_an_emergency_call_waits_for_a_held_agent_row_at_most_its_bound(tmp_path: Path) -> None:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    if settings.is_embedded_database:
        pytest.skip("SQLite serialises writers instead of locking rows (CC-9); CI runs this on MariaDB")
    reset_database(settings)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            uow = SqlAlchemyUnitOfWork(session)
            await uow.clients.add(make_client(client_id=CLIENT))
            await uow.agents.add(make_agent("a-1"))
            await uow.commit()
        async with sessionmaker() as holder, sessionmaker() as emergency:
            assert await SqlAlchemyUnitOfWork(holder).agents.get_for_update(CLIENT, "a-1") is not None
            started = time.monotonic()
            with pytest.raises(LockContentionError) as waited:  # the port's error, from the driver's (below)
                await SqlAlchemyUnitOfWork(emergency).agents.get_for_update_bounded(CLIENT, "a-1", wait_seconds=1)
            elapsed = time.monotonic() - started
            await holder.rollback()
    finally:
        await engine.dispose()
    assert waited.value.__cause__ is not None
    assert is_lock_contention(waited.value.__cause__)
    assert elapsed < 3
