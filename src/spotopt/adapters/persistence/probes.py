"""Health probes backed by the database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.persistence.job_runs import read_activity
from spotopt.application.jobs.names import JobName
from spotopt.application.jobs.schedule import BackgroundJobs, JobSpec, assess_background_jobs

PROBE_TIMEOUT_SECONDS = 2.0


class SqlAlchemyDatabaseProbe:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


class SqlAlchemyJobMonitor:
    """H1 ``background_jobs`` from the job-run rows, so it reflects workers in any process.

    ``running`` when a run started in the last 60 s and no scheduled job missed more than two consecutive ticks;
    ``disabled`` when jobs are switched off; ``stalled`` otherwise, or when the rows cannot be read.
    """

    def __init__(self, engine: AsyncEngine, *, enabled: bool, specs: Mapping[JobName, JobSpec]) -> None:
        self._engine = engine
        self._enabled = enabled
        self._specs = specs

    async def status(self, now: datetime) -> str:
        if not self._enabled:
            return BackgroundJobs.DISABLED
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self._engine.connect() as conn:
                activity = await read_activity(conn)
        except Exception:
            return BackgroundJobs.STALLED
        return assess_background_jobs(now, activity, self._specs)
