"""M10 / M11 read models: the system events page and the operational counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence.mappers.notifications import SYSTEM_EVENTS
from spotopt.adapters.persistence.models.agents import AgentModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.notifications import SystemEventModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.application.ports.admin_views import ActivityFilter, HealthCounts
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.notifications.notification import SystemEvent
from spotopt.domain.replicas.values import ReplicaStatus
from spotopt.domain.shared.events import Severity

S = SystemEventModel
STALE_AFTER = timedelta(seconds=120)
ERRORS = (Severity.ERROR.value, Severity.CRITICAL.value)


class SqlAlchemyAdminActivityView:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def events(self, flt: ActivityFilter, *, limit: int, offset: int) -> tuple[Sequence[SystemEvent], int]:
        where: list[Any] = [S.created_at >= flt.since, S.created_at <= flt.until]  # index ix_system_events_created_at
        if flt.severities:
            where.append(S.severity.in_(sorted(s.value for s in flt.severities)))
        if flt.types:
            where.append(S.type.in_(sorted(flt.types)))
        if flt.client_id is not None:
            where.append(S.client_id == flt.client_id)
        total = await self._scalar(select(func.count()).select_from(S).where(*where))
        page = select(S).where(*where).order_by(S.created_at.desc(), S.event_id.asc()).limit(limit).offset(offset)
        rows = (await self._session.execute(page)).scalars().all()
        return [SYSTEM_EVENTS.to_domain(row) for row in rows], total

    async def health_counts(self, now: datetime) -> HealthCounts:
        a, r, e = AgentModel, ReplicaModel, EpisodeModel
        stale = select(func.count()).where(
            a.lifecycle == Lifecycle.ACTIVE.value,
            a.liveness == Liveness.ONLINE.value,
            a.last_heartbeat_at < now - STALE_AFTER,
        )
        failed = select(func.count()).where(
            r.status == ReplicaStatus.FAILED.value, r.failed_at >= now - timedelta(hours=24)
        )
        errors = select(func.count()).where(S.severity.in_(ERRORS), S.created_at >= now - timedelta(hours=1))
        episodes = select(func.count()).where(e.state.in_(sorted(s.value for s in OPEN_EPISODE)))
        return HealthCounts(
            stale_agents=await self._scalar(stale.select_from(a)),
            failed_replicas_24h=await self._scalar(failed.select_from(r)),
            recent_errors_1h=await self._scalar(errors.select_from(S)),
            open_episodes=await self._scalar(episodes.select_from(e)),
        )

    async def _scalar(self, stmt: Any) -> int:
        return int((await self._session.execute(stmt)).scalar_one())
