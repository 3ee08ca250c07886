"""The health document's live parts (H1)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.ports.system import Clock, DatabaseProbe, JobMonitor


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    status: str
    database: str
    decision_engine: str
    background_jobs: str


class GetHealth:
    """- ``ok`` only when the database answers, the engine serves without fallback and jobs are not stalled."""

    def __init__(self, probe: DatabaseProbe, jobs: JobMonitor, clock: Clock) -> None:
        self._probe = probe
        self._jobs = jobs
        self._clock = clock

    async def execute(self) -> HealthReport:
        database = "ok" if await self._probe.ping() else "error"
        jobs = await self._jobs.status(self._clock.now()) if database == "ok" else "stalled"
        engine = "loaded"
        healthy = database == "ok" and engine == "loaded" and jobs != "stalled"
        return HealthReport(
            status="ok" if healthy else "degraded", database=database, decision_engine=engine, background_jobs=jobs
        )
