"""H1 ``background_jobs`` from the job-run rows: a job that keeps failing is a job that misses its ticks (issue 4:
"its failure is visible on the dashboard and in /health").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.repositories.system import SqlAlchemyJobMonitor, SqlAlchemyJobRuns
from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import JobSpec, Schedule
from tests import services
from tests.http_app import make_settings, reset_database

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SPECS = {JobName.MONITOR_AGENT_HEALTH: JobSpec(name=JobName.MONITOR_AGENT_HEALTH, schedule=Schedule(30), timeout=25)}


async def _status_after_runs(tmp_path: Path, statuses: list[RunStatus]) -> str:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path)
    reset_database(settings)
    engine = create_engine(settings.database_url)
    try:
        runs = SqlAlchemyJobRuns(create_sessionmaker(engine))
        tick = START
        for status in statuses:
            assert await runs.claim(JobName.MONITOR_AGENT_HEALTH, tick, tick)
            await runs.finish(JobName.MONITOR_AGENT_HEALTH, tick, status=status, now=tick, duration_ms=5, summary={})
            tick += timedelta(seconds=30)
        monitor = SqlAlchemyJobMonitor(engine, enabled=True, specs=SPECS)
        return await monitor.status(tick - timedelta(seconds=20))
    finally:
        await engine.dispose()


async def test_h1_jobs_running_while_ticks_succeed(tmp_path: Path) -> None:
    assert await _status_after_runs(tmp_path, [RunStatus.OK] * 6) == "running"


async def test_h1_a_job_failing_more_than_two_ticks_in_a_row_shows_stalled(tmp_path: Path) -> None:
    failing = [RunStatus.OK, RunStatus.OK, RunStatus.ERROR, RunStatus.ERROR, RunStatus.ERROR, RunStatus.ERROR]
    assert await _status_after_runs(tmp_path, failing) == "stalled"


async def test_h1_one_failed_tick_between_successes_is_tolerated(tmp_path: Path) -> None:
    once = [RunStatus.OK, RunStatus.OK, RunStatus.ERROR, RunStatus.OK]
    assert await _status_after_runs(tmp_path, once) == "running"
