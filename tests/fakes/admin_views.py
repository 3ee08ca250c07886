"""Fakes of the admin read ports and of the job monitor (same rules as the SQL adapters)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from spotopt.application.jobs.names import JobName, RunStatus
from spotopt.application.jobs.schedule import BackgroundJobs, JobActivity, JobSpec, assess_background_jobs
from tests.fakes.system import InMemoryJobRuns


class InMemoryJobMonitor:
    """``JobMonitor`` over in-memory job-run rows, judged by the same rule as ``SqlAlchemyJobMonitor`` (H1)."""

    def __init__(self, runs: InMemoryJobRuns, specs: Mapping[JobName, JobSpec], *, enabled: bool = True) -> None:
        self._runs = runs
        self._specs = specs
        self._enabled = enabled

    async def status(self, now: datetime) -> str:
        if not self._enabled:
            return BackgroundJobs.DISABLED
        rows = list(self._runs.rows.values())
        ticks: dict[str, datetime] = {}
        for row in rows:
            if row.status is not RunStatus.ERROR and (row.job not in ticks or ticks[row.job] < row.tick):
                ticks[row.job] = row.tick
        activity = JobActivity(
            last_started_at=max((r.started_at for r in rows), default=None),
            first_started_at=min((r.started_at for r in rows), default=None),
            last_ticks=ticks,
        )
        return assess_background_jobs(now, activity, self._specs)


class StubDatabaseProbe:
    def __init__(self, *, up: bool = True) -> None:
        self.up = up

    async def ping(self) -> bool:
        return self.up
