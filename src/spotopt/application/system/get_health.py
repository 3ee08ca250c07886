"""The health document's live parts (H1)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.decisions import EngineStatus
from spotopt.application.ports.system import Clock, DatabaseProbe, JobMonitor


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    status: str
    database: str
    decision_engine: str
    background_jobs: str


class GetHealth:
    """- ``ok`` only when the database answers, the engine serves without fallback and jobs are not stalled."""

    def __init__(self, probe: DatabaseProbe, jobs: JobMonitor, clock: Clock, engine: EngineStatus) -> None:
        self._probe = probe
        self._jobs = jobs
        self._clock = clock
        self._engine = engine

    async def execute(self) -> HealthReport:
        database = "ok" if await self._probe.ping() else "error"
        jobs = await self._jobs.status(self._clock.now()) if database == "ok" else "stalled"
        # H1: ``not loaded`` while a fallback version or the rule estimator stands in for the policy's models.
        engine = "not loaded" if (await self._engine.current()).fallback_active else "loaded"
        healthy = database == "ok" and engine == "loaded" and jobs != "stalled"
        return HealthReport(
            status="ok" if healthy else "degraded", database=database, decision_engine=engine, background_jobs=jobs
        )
