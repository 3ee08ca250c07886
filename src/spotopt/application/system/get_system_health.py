"""M11: the operator's health detail; its ``background_jobs`` is H1's (the shared ``JobHealth``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.errors import UnavailableError
from spotopt.application.ports.admin_views import AdminActivityView, HealthCounts
from spotopt.application.ports.decisions import ModelRegistry, PolicyStore
from spotopt.application.ports.system import Clock, DatabaseProbe
from spotopt.application.system.job_health import JobHealth, JobState
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineState:
    engine_kind: str
    policy_version: str
    risk_model_version: str | None
    price_model_version: str | None
    fallback_active: bool  # DP-3: the rule estimator stands in for a missing CatBoost risk model


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemHealth:
    background_jobs: str
    counts: HealthCounts
    jobs: Sequence[JobState]
    engine: EngineState
    timestamp: datetime


class GetSystemHealth:
    """- The database must answer, else 503 ``unavailable`` (``dependency`` = ``database``).
    - ``background_jobs`` and the job list come from the job-run rows (JB-4), as H1's do; a pure read.
    """

    def __init__(
        self,
        probe: DatabaseProbe,
        view: AdminActivityView,
        jobs: JobHealth,
        policies: PolicyStore,
        models: ModelRegistry,
        clock: Clock,
    ) -> None:
        self._probe = probe
        self._view = view
        self._jobs = jobs
        self._policies = policies
        self._models = models
        self._clock = clock

    async def execute(self) -> SystemHealth:
        if not await self._probe.ping():
            raise UnavailableError("database")
        now = self._clock.now()
        return SystemHealth(
            background_jobs=await self._jobs.background_jobs(now),
            counts=await self._view.health_counts(now),
            jobs=await self._jobs.jobs(now),
            engine=await self._engine(),
            timestamp=now,
        )

    async def _engine(self) -> EngineState:
        policy = await self._policies.active()
        live = await self._models.live()
        risk = live.get(ModelKind.INTERRUPTION_RISK)
        price = live.get(ModelKind.PRICE_FORECAST)
        risk_live = risk.live if risk else None
        price_live = price.live if price else None
        return EngineState(
            engine_kind=policy.engine_kind.value,
            policy_version=policy.policy_version,
            risk_model_version=risk_live.name if risk_live else None,
            price_model_version=price_live.name if price_live else None,
            fallback_active=policy.engine_kind is EngineKind.CATBOOST and risk_live is None,
        )
