"""Background-job health, shared by H1 ``/health`` and M11 ``/api/admin/system-health`` (one logic, no copy).

A fresh server has no job runs yet: until the first ticks after its start are due, ``background_jobs`` is
``starting`` rather than ``stalled`` (issue 8), so a server 4 s after start is not reported degraded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import BackgroundJobs, JobCatalogue, JobSpec
from spotopt.application.ports.system import JobMonitor, JobRuns

STARTING = "starting"


@dataclass(frozen=True, slots=True)
class ServerStart:
    """The instant this server process started (taken once, when the application starts)."""

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class JobState:
    """One scheduled or on-demand job as M11 lists it, from its newest job-run row (JB-4)."""

    name: str
    schedule: str | None
    last_tick: datetime | None
    last_status: str | None
    last_duration_ms: int | None
    next_tick: datetime | None


def first_ticks_due(started_at: datetime, specs: Mapping[JobName, JobSpec]) -> datetime:
    """When the most frequent job's first two ticks after ``started_at`` are due, slack included (JB-1).

    Two ticks, because the first one may fall before the worker is up. Without scheduled jobs: ``started_at``.
    """
    dues = [
        spec.schedule.next_tick(started_at) + timedelta(seconds=spec.schedule.every + min(spec.schedule.every, 15))
        for spec in specs.values()
        if spec.schedule is not None
    ]
    return min(dues, default=started_at)


def starting_or(verdict: str, now: datetime, started_at: datetime, specs: Mapping[JobName, JobSpec]) -> str:
    """A ``stalled`` verdict is ``starting`` while the first ticks after start are not due yet."""
    if verdict == BackgroundJobs.STALLED and now < first_ticks_due(started_at, specs):
        return STARTING
    return verdict


class JobHealth:
    """Reads the job-run rows for H1 and M11; never commits, never raises (the monitor answers ``stalled``)."""

    def __init__(self, monitor: JobMonitor, runs: JobRuns, catalogue: JobCatalogue, start: ServerStart) -> None:
        self._monitor = monitor
        self._runs = runs
        self._specs = catalogue.specs
        self._start = start

    async def background_jobs(self, now: datetime) -> str:
        """``running`` / ``stalled`` / ``disabled`` as H1 defines them, or ``starting`` just after start."""
        return starting_or(await self._monitor.status(now), now, self._start.at, self._specs)

    async def jobs(self, now: datetime) -> Sequence[JobState]:
        """Every job of the catalogue, in catalogue order, with its newest run (M11 ``jobs``)."""
        newest = {run.job: run for run in await self._runs.last_runs()}
        states = []
        for name, spec in self._specs.items():
            run = newest.get(name.value)
            finished = run is not None and run.status is not RunStatus.RUNNING
            states.append(
                JobState(
                    name=name.value,
                    schedule=spec.schedule.describe() if spec.schedule else None,
                    last_tick=run.tick if run else None,
                    last_status=run.status.value if run and finished else None,
                    last_duration_ms=run.duration_ms if run and finished else None,
                    next_tick=spec.schedule.next_tick(now) if spec.schedule else None,
                )
            )
        return states
