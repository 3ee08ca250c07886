"""Real SAQ workers on Redis (or an embedded Valkey) and a real database (MariaDB in CI)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from dishka import Provider, Scope, provide
from saq import Job, Queue, Status
from sqlalchemy import func, select

from spotopt.adapters.persistence.engine import create_engine
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import NotificationModel, SystemEventModel
from spotopt.adapters.persistence.models.system import JobRunModel
from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline, MarkStaleAgentsOfflineResult
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.jobs.names import JobName, RunStatus, run_key
from spotopt.application.ports.system import Clock, JobMonitor, JobQueue
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.system.get_health import GetHealth
from spotopt.bootstrap.container import make_container
from spotopt.bootstrap.settings import Settings
from spotopt.domain.agents.agent import Agent
from spotopt.domain.shared.ids import AgentId, ClientId
from spotopt.entrypoints.worker.runtime import background_worker
from spotopt.entrypoints.worker.settings import worker_settings
from tests.factories.agents import make_client

WAIT_SECONDS = 30.0
JOB = JobName.MONITOR_AGENT_HEALTH


class Script:
    """What the health monitor does in a test: count runs, fail, or hang after committing its effect."""

    def __init__(self, *, fail: bool = False, hang: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.hang = hang
        self.effect_committed = asyncio.Event()


class ScriptedMonitor(MarkStaleAgentsOffline):
    def __init__(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings, script: Script) -> None:
        super().__init__(uow, clock, timings)
        self.script = script

    async def execute(self) -> MarkStaleAgentsOfflineResult:
        self.script.calls += 1
        if self.script.fail:
            raise RuntimeError("boom")
        result = await super().execute()
        if self.script.hang:
            self.script.effect_committed.set()
            await asyncio.Event().wait()  # the worker dies before SAQ learns the job finished
        return result


class ScriptProvider(Provider):
    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script

    @provide(scope=Scope.REQUEST, override=True)
    def monitor(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings) -> MarkStaleAgentsOffline:
        return ScriptedMonitor(uow, clock, timings, self.script)


@pytest.fixture
def settings(job_settings: Callable[..., Settings]) -> Settings:
    return job_settings(job_periods=((JOB.value, 1),))


def on_demand_only(settings: Settings, script: Script, **options: Any) -> dict[str, Any]:
    """Worker settings without cron jobs, so only the jobs a test enqueues run."""
    built = worker_settings(settings, ScriptProvider(script), **options)
    built["cron_jobs"] = []
    return built


async def wait_until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while not await predicate():  # noqa: ASYNC110 - the state lives in Redis and the database
            await asyncio.sleep(0.1)
    assert await predicate(), what


async def finished_job(queue: Queue, key: str) -> Job:
    found: list[Job] = []

    async def done() -> bool:
        job = await queue.job(key)
        found[:] = [job] if job is not None else []
        return job is not None and job.status in {Status.COMPLETE, Status.FAILED}

    await wait_until(done, f"job {key} finished")
    return found[0]


async def rows(settings: Settings, stmt: Any) -> list[Any]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(stmt)).all())
    finally:
        await engine.dispose()


async def job_runs(settings: Settings) -> list[Any]:
    """Runs of the job under test (the worker also runs every other scheduled job)."""
    runs = table_of(JobRunModel).c
    return await rows(settings, select(table_of(JobRunModel)).where(runs.job == JOB.value).order_by(runs.tick))


async def count_events(settings: Settings, type_: str) -> int:
    [(count,)] = await rows(
        settings,
        select(func.count()).select_from(table_of(SystemEventModel)).where(table_of(SystemEventModel).c.type == type_),
    )
    return int(count)


async def enqueue_health_monitor(settings: Settings, tick: datetime) -> bool:
    container = make_container(settings)
    try:
        enqueued: bool = await (await container.get(JobQueue)).run_health_monitor(tick)
        return enqueued
    finally:
        await container.close()


async def add_stale_agent(settings: Settings) -> None:
    now = datetime.now(UTC)
    container = make_container(settings)
    try:
        async with container() as scope:
            uow = await scope.get(UnitOfWork)
            if await uow.clients.get(ClientId("client-1")) is None:  # the agent's client (its foreign key)
                await uow.clients.add(make_client(client_id=ClientId("client-1")))
            await uow.agents.add(
                Agent(
                    agent_id=AgentId(f"agent-{uuid4().hex[:8]}"),
                    client_id=ClientId("client-1"),
                    logical_agent_id="web-1",
                    created_at=now - timedelta(days=1),
                    updated_at=now - timedelta(days=1),
                    last_heartbeat_at=now - timedelta(minutes=10),
                )
            )
            await uow.commit()
    finally:
        await container.close()


async def test_jb1_each_cron_tick_runs_once_however_many_workers(settings: Settings) -> None:
    script = Script()
    first = worker_settings(settings, ScriptProvider(script), concurrency=2)
    second = worker_settings(settings, ScriptProvider(script), concurrency=2)

    async with background_worker(first) as worker, background_worker(second):

        async def four_ticks_ran() -> bool:
            return len([r for r in await job_runs(settings) if r.status == RunStatus.OK]) >= 4

        await wait_until(four_ticks_ran, "four ticks ran")
        # SAQ may run a finished job again (same key, after a restart): the job-run row makes it a no-op
        done_tick = (await job_runs(settings))[0].tick
        assert await enqueue_health_monitor(settings, done_tick)
        rerun = await finished_job(worker.queue, run_key(JOB, done_tick))

    runs = await job_runs(settings)
    assert rerun.result == {"tick": rerun.key.split(":", 1)[1], "skipped": "another worker ran this tick"}
    assert len(runs) == script.calls
    assert len({r.tick for r in runs}) == len(runs)
    assert all(r.status == RunStatus.OK and r.duration_ms is not None for r in runs)


async def test_h1_background_jobs_report_the_workers_from_their_job_run_rows(settings: Settings) -> None:
    container = make_container(settings)
    try:
        monitor = await container.get(JobMonitor)
        before = await monitor.status(datetime.now(UTC))
        async with background_worker(worker_settings(settings)):

            async def ran() -> bool:
                return bool(await job_runs(settings))

            await wait_until(ran, "a tick ran")
            async with container() as scope:
                report = await (await scope.get(GetHealth)).execute()
        later = await monitor.status(datetime.now(UTC) + timedelta(minutes=2))
    finally:
        await container.close()

    assert before == "stalled"
    assert (report.background_jobs, report.status) == ("running", "ok")
    assert later == "stalled"


async def test_jb1_an_enqueued_job_survives_a_worker_restart_without_applying_its_effect_twice(
    settings: Settings,
) -> None:
    await add_stale_agent(settings)
    tick = datetime.now(UTC).replace(microsecond=0)
    script = Script(hang=True)

    async with background_worker(on_demand_only(settings, script)):
        assert await enqueue_health_monitor(settings, tick)
        await asyncio.wait_for(script.effect_committed.wait(), WAIT_SECONDS)
    # the worker stopped mid-job, after the use case committed: SAQ queues the job again
    script.hang = False
    async with background_worker(on_demand_only(settings, script)) as worker:
        job = await finished_job(worker.queue, run_key(JOB, tick))

    [run] = await job_runs(settings)
    assert (job.status, job.attempts) == (Status.COMPLETE, 2)
    assert job.result["marked_offline"] == 0
    assert (run.status, run.summary["marked_offline"]) == (RunStatus.OK, 0)
    assert await count_events(settings, "agent_offline") == 1
    assert len(await rows(settings, select(table_of(NotificationModel)))) == 1


async def test_jb3_a_failing_job_is_retried_and_its_failure_recorded(settings: Settings) -> None:
    tick = datetime.now(UTC).replace(microsecond=0)
    script = Script(fail=True)

    async with background_worker(on_demand_only(settings, script)) as worker:
        assert await enqueue_health_monitor(settings, tick)
        job = await finished_job(worker.queue, run_key(JOB, tick))

    [run] = await job_runs(settings)
    assert (job.status, job.attempts, script.calls) == (Status.FAILED, 2, 2)
    assert run.status == RunStatus.ERROR
    assert run.summary == {"error": "RuntimeError: boom", "attempts": 2}
    assert await count_events(settings, "job_failed") == 1
