"""The health document's live parts (H1)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.jobs.schedule import BackgroundJobs
from spotopt.application.ports.decisions import EngineStatus
from spotopt.application.ports.system import Clock, DatabaseProbe
from spotopt.application.system.job_health import JobHealth


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    status: str
    database: str
    decision_engine: str
    background_jobs: str


class GetHealth:
    """- ``ok`` only when the database answers, the engine serves without fallback and jobs are not stalled.
    - Jobs are ``starting`` (not stalled) until the first ticks after the server's start are due.
    """

    def __init__(self, probe: DatabaseProbe, jobs: JobHealth, clock: Clock, engine: EngineStatus) -> None:
        self._probe = probe
        self._jobs = jobs
        self._clock = clock
        self._engine = engine

    async def execute(self) -> HealthReport:
        database = "ok" if await self._probe.ping() else "error"
        now = self._clock.now()
        jobs = await self._jobs.background_jobs(now) if database == "ok" else BackgroundJobs.STALLED.value
        # H1: ``not loaded`` while a fallback version or the rule estimator stands in for the policy's models.
        engine = "not loaded" if (await self._engine.current()).fallback_active else "loaded"
        healthy = database == "ok" and engine == "loaded" and jobs != BackgroundJobs.STALLED
        return HealthReport(
            status="ok" if healthy else "degraded", database=database, decision_engine=engine, background_jobs=jobs
        )
