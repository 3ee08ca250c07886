"""H1 ``/health``: a fresh server is ``starting``, not ``degraded / stalled`` (issue 8), and its counts come from
the router. The job rule itself is the one ``SqlAlchemyJobMonitor`` applies (``assess_background_jobs``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dishka import Provider, Scope, provide
from hypothesis import given
from hypothesis import strategies as st

from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import DEFAULT_JOB_SPECS, JobCatalogue
from spotopt.application.ports.decisions import EngineState
from spotopt.application.ports.system import Clock
from spotopt.application.system.get_health import GetHealth
from spotopt.application.system.job_health import JobHealth, ServerStart, first_ticks_due
from tests.fakes.admin_views import InMemoryJobMonitor, StubDatabaseProbe
from tests.fakes.system import FixedClock, InMemoryJobRuns
from tests.http_app import app_client, make_settings, reset_database
from tests.services import sqlite_url

START = datetime(2026, 11, 28, 9, 0, 3, tzinfo=UTC)


class FixedEngineStatus:
    """The rule engine serving without fallback (the engine half of H1 is tested with the model registry)."""

    async def current(self) -> EngineState:
        return EngineState(
            engine_kind="rules",
            policy_version="builtin",
            risk_model_version=None,
            price_model_version=None,
            fallback_active=False,
        )


def health_at(clock: FixedClock, runs: InMemoryJobRuns, *, started_at: datetime = START) -> GetHealth:
    monitor = InMemoryJobMonitor(runs, DEFAULT_JOB_SPECS)
    jobs = JobHealth(monitor, runs, JobCatalogue(DEFAULT_JOB_SPECS), ServerStart(started_at))
    return GetHealth(StubDatabaseProbe(), jobs, clock, FixedEngineStatus())


async def test_h1_a_server_4_seconds_after_start_is_starting_not_degraded() -> None:
    runs = InMemoryJobRuns()
    clock = FixedClock(START + timedelta(seconds=4))
    monitor = InMemoryJobMonitor(runs, DEFAULT_JOB_SPECS)

    report = await health_at(clock, runs).execute()

    assert await monitor.status(clock.now()) == "stalled"  # the bare monitor: what /health said before issue 8
    assert (report.status, report.background_jobs) == ("ok", "starting")


async def test_h1_no_run_once_the_first_ticks_are_due_is_a_stall() -> None:
    runs = InMemoryJobRuns()
    clock = FixedClock(first_ticks_due(START, DEFAULT_JOB_SPECS))

    report = await health_at(clock, runs).execute()

    assert (report.status, report.background_jobs) == ("degraded", "stalled")


async def test_h1_a_worker_that_ran_since_start_is_running() -> None:
    runs = InMemoryJobRuns()
    clock = FixedClock(START + timedelta(seconds=12))
    tick = START + timedelta(seconds=7)
    for job in JobName:
        await runs.claim(job, tick, tick)
        await runs.finish(job, tick, status=RunStatus.OK, now=tick, duration_ms=3, summary={})

    report = await health_at(clock, runs).execute()

    assert (report.status, report.background_jobs) == ("ok", "running")


async def test_h1_a_database_outage_is_degraded_even_while_starting() -> None:
    runs = InMemoryJobRuns()
    monitor = InMemoryJobMonitor(runs, DEFAULT_JOB_SPECS)
    jobs = JobHealth(monitor, runs, JobCatalogue(DEFAULT_JOB_SPECS), ServerStart(START))
    sut = GetHealth(StubDatabaseProbe(up=False), jobs, FixedClock(START + timedelta(seconds=1)), FixedEngineStatus())

    report = await sut.execute()

    assert (report.status, report.database, report.background_jobs) == ("degraded", "error", "stalled")


@given(
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),  # noqa: DTZ001
    after=st.floats(min_value=0, max_value=3600),
)
def test_h1_starting_lasts_exactly_until_the_first_ticks_are_due(start: datetime, after: float) -> None:
    """Property: without runs, ``starting`` before the due instant and ``stalled`` from it on; never past 40 s."""
    due = first_ticks_due(start, DEFAULT_JOB_SPECS)
    now = start + timedelta(seconds=after)
    runs = InMemoryJobRuns()
    monitor = InMemoryJobMonitor(runs, DEFAULT_JOB_SPECS)
    sut = JobHealth(monitor, runs, JobCatalogue(DEFAULT_JOB_SPECS), ServerStart(start))

    verdict = asyncio.run(sut.background_jobs(now))

    assert start + timedelta(seconds=20) < due <= start + timedelta(seconds=40)
    assert verdict == ("starting" if now < due else "stalled")


class ClockProvider(Provider):
    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP, override=True)
    def clock(self) -> Clock:
        return self._clock


async def test_h1_http_fresh_server_is_ok_starting_and_counts_its_routes_from_the_router(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), tmp_path, enable_background_jobs=True)
    reset_database(settings)
    clock = FixedClock(START)
    async with app_client(settings, ClockProvider(clock)) as client:
        clock.advance(seconds=4)
        health = await client.get("/health")
        schema = (await client.get("/docs/openapi.json")).json()

    documented = sum(
        1
        for path, item in schema["paths"].items()
        if path.startswith("/api/") or path == "/health"
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )
    body = health.json()
    assert health.status_code == 200
    assert (body["status"], body["components"]["background_jobs"]) == ("ok", "starting")
    assert body["components"]["endpoints_total"] == documented
    assert body["components"]["endpoints_active"] == documented
