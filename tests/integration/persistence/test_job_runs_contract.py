"""One set of assertions for the fakes and the SQL adapters of the job-framework ports (house style §13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.repositories.system import SqlAlchemyJobRuns
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.application.jobs.names import RunStatus
from spotopt.application.ports.agents import StaleAgent
from spotopt.application.ports.system import JobRuns
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.shared.ids import AgentId, ClientId
from tests import services
from tests.factories.agents import make_client
from tests.fakes.store import InMemoryStore
from tests.fakes.system import InMemoryJobRuns
from tests.fakes.uow import InMemoryUnitOfWork
from tests.http_app import make_settings, reset_database

NOW = datetime(2026, 11, 28, 9, 0, 0, 123456, tzinfo=UTC)
TICK = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
JOB = "monitor_agent_health"


@dataclass
class Backend:
    runs: JobRuns
    sessionmaker: async_sessionmaker[AsyncSession] | None
    store: InMemoryStore

    def uow(self, session: AsyncSession | None) -> Any:
        return InMemoryUnitOfWork(self.store) if session is None else SqlAlchemyUnitOfWork(session)


@pytest.fixture(params=["in_memory", "sqlalchemy"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "in_memory":
        yield Backend(InMemoryJobRuns(), None, InMemoryStore())
        return
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    engine: AsyncEngine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    yield Backend(SqlAlchemyJobRuns(sessionmaker), sessionmaker, InMemoryStore())
    await engine.dispose()


async def test_jb1_a_tick_is_claimed_once(backend: Backend) -> None:
    assert await backend.runs.claim(JOB, TICK, NOW)
    assert not await backend.runs.claim(JOB, TICK, NOW + timedelta(seconds=1))
    assert await backend.runs.claim(JOB, TICK + timedelta(seconds=30), NOW)
    assert await backend.runs.claim("other_job", TICK, NOW)


async def test_jb1_only_a_failed_or_abandoned_run_can_be_taken_over(backend: Backend) -> None:
    later = TICK + timedelta(seconds=30)
    await backend.runs.claim(JOB, TICK, NOW)
    await backend.runs.claim(JOB, later, NOW)
    await backend.runs.finish(JOB, later, status=RunStatus.OK, now=NOW, duration_ms=5, summary={})

    running = await backend.runs.reclaim(JOB, TICK, NOW, stale_before=NOW - timedelta(seconds=25))
    finished = await backend.runs.reclaim(JOB, later, NOW, stale_before=NOW + timedelta(hours=1))
    abandoned = await backend.runs.reclaim(JOB, TICK, NOW, stale_before=NOW + timedelta(seconds=1))
    await backend.runs.finish(JOB, TICK, status=RunStatus.ERROR, now=NOW, duration_ms=5, summary={"error": "x"})
    failed = await backend.runs.reclaim(JOB, TICK, NOW, stale_before=NOW - timedelta(seconds=25))
    missing = await backend.runs.reclaim(JOB, TICK + timedelta(hours=1), NOW, stale_before=NOW)

    assert (running, finished, abandoned, failed, missing) == (False, False, True, True, False)


async def test_jb4_a_run_records_status_duration_and_summary_and_the_newest_run_per_job_is_listed(
    backend: Backend,
) -> None:
    for offset in (0, 30, 60):
        await backend.runs.claim(JOB, TICK + timedelta(seconds=offset), NOW)
    await backend.runs.claim("other_job", TICK, NOW)
    summary = {"marked_offline": 2, "failed": ["a1"]}
    newest = TICK + timedelta(seconds=60)
    await backend.runs.finish(
        JOB, newest, status=RunStatus.OK, now=NOW + timedelta(seconds=2), duration_ms=42, summary=summary
    )

    runs = {run.job: run for run in await backend.runs.last_runs()}

    assert sorted(runs) == [JOB, "other_job"]
    run = runs[JOB]
    assert (run.tick, run.status, run.started_at, run.finished_at) == (
        newest,
        RunStatus.OK,
        NOW,
        NOW + timedelta(seconds=2),
    )
    assert (run.duration_ms, dict(run.summary)) == (42, summary)
    assert runs["other_job"].status is RunStatus.RUNNING


def make_agent(agent_id: str, age: timedelta, **overrides: Any) -> Agent:
    values: dict[str, Any] = {
        "agent_id": AgentId(agent_id),
        "client_id": ClientId("client-1"),
        "logical_agent_id": agent_id,
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        "last_heartbeat_at": NOW - age,
    }
    values.update(overrides)
    return Agent(**values)


async def test_domain_a7_stale_online_agents_are_listed_oldest_first_with_the_heartbeat_read(
    backend: Backend,
) -> None:
    agents = [
        make_agent("stale-1", timedelta(minutes=5)),
        make_agent("stale-2", timedelta(minutes=9)),
        make_agent("stale-3", timedelta(minutes=7)),
        make_agent("fresh", timedelta(seconds=30)),
        make_agent("offline", timedelta(minutes=8), liveness=Liveness.OFFLINE),
        make_agent("deleted", timedelta(minutes=8), lifecycle=Lifecycle.DELETED, deleted_at=NOW),
        make_agent("never", timedelta(0), last_heartbeat_at=None),
    ]
    await _save(backend, agents)

    found = await _read(backend, lambda uow: uow.agents.list_stale_online(NOW - timedelta(seconds=120), 2))
    locked = await _read(backend, lambda uow: uow.agents.get_for_update_skip_locked(ClientId("client-1"), "stale-2"))
    gone = await _read(backend, lambda uow: uow.agents.get_for_update_skip_locked(ClientId("client-1"), "deleted"))

    assert found == [
        StaleAgent(
            client_id=ClientId("client-1"), agent_id=AgentId("stale-2"), last_heartbeat_at=NOW - timedelta(minutes=9)
        ),
        StaleAgent(
            client_id=ClientId("client-1"), agent_id=AgentId("stale-3"), last_heartbeat_at=NOW - timedelta(minutes=7)
        ),
    ]
    assert locked is not None
    assert locked.last_heartbeat_at == NOW - timedelta(minutes=9)
    assert gone is None


async def _save(backend: Backend, agents: list[Agent]) -> None:
    """The agents and their client (the agents' foreign key), in one transaction."""
    client = make_client(client_id=ClientId("client-1"))
    if backend.sessionmaker is None:
        await backend.uow(None).clients.add(client)
        for agent in agents:
            await backend.uow(None).agents.add(agent)
        return
    async with backend.sessionmaker() as session:
        uow = backend.uow(session)
        await uow.clients.add(client)
        for agent in agents:
            await uow.agents.add(agent)
        await uow.commit()


async def _read(backend: Backend, action: Any) -> Any:
    if backend.sessionmaker is None:
        return _listed(await action(backend.uow(None)))
    async with backend.sessionmaker() as session:
        return _listed(await action(backend.uow(session)))


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
