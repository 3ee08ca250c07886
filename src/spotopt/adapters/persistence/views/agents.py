"""C2 and C3 read models: the client's agents with their derived fields, and its fleet counts.

The display status (§3.1) is one SQL ``CASE`` mirroring ``domain/agents/display_status.py`` so that the ``status``
filter and ``total`` are computed by the database; a page then costs three statements (count, page, the page's
live replicas) whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select

from spotopt.adapters.persistence.entities import SessionEntities
from spotopt.adapters.persistence.mappers.agents import AGENTS
from spotopt.adapters.persistence.mappers.replicas import REPLICAS
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.adapters.persistence.models.commands import CommandModel
from spotopt.adapters.persistence.models.interruptions import EpisodeModel
from spotopt.adapters.persistence.models.replicas import ReplicaModel
from spotopt.application.agents.config_view import current_replica
from spotopt.application.ports.client_views import AgentFilter, AgentView, FleetCounts, PageRequest
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness, ReportedStatus
from spotopt.domain.commands.values import CommandStatus, CommandType
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA
from spotopt.domain.shared.ids import ClientId

a = AgentModel


def switching(now: datetime) -> ColumnElement[bool]:
    """§3.1 row 3: a delivered switch command with an unexpired lease, or a ``terminating`` episode."""
    c, e = CommandModel, EpisodeModel
    delivered = exists().where(
        c.agent_id == a.agent_id,
        c.status == CommandStatus.DELIVERED.value,
        c.type == CommandType.SWITCH.value,
        c.lease_expires_at > now,
    )
    terminating = exists().where(e.agent_id == a.agent_id, e.state == EpisodeState.TERMINATING.value)
    return or_(delivered, terminating)


def display_status(now: datetime) -> ColumnElement[str]:
    return case(
        (a.lifecycle == Lifecycle.DELETED.value, "deleted"),
        (a.liveness == Liveness.OFFLINE.value, "offline"),
        (switching(now), "switching"),
        (not_(a.enabled), "disabled"),
        (a.reported_status == ReportedStatus.ERROR.value, "error"),
        else_="online",
    )


class AgentReads:
    _db: SessionEntities

    async def owns_agent(self, client_id: ClientId, agent_id: str) -> bool:
        stmt = select(a.agent_id).where(a.client_id == client_id, a.agent_id == agent_id)
        return (await self._db.execute(stmt)).first() is not None

    async def agents(
        self, client_id: ClientId, where: AgentFilter, page: PageRequest, now: datetime
    ) -> tuple[Sequence[AgentView], int]:
        filters: list[ColumnElement[bool]] = [a.client_id == client_id]
        if not where.include_deleted:
            filters.append(a.lifecycle == Lifecycle.ACTIVE.value)
        if where.statuses:
            filters.append(display_status(now).in_(sorted(s.value for s in where.statuses)))
        total = (await self._db.execute(select(func.count()).select_from(a).where(*filters))).scalar_one()
        if total == 0 or page.offset >= total:
            return [], total
        stmt = (
            select(a, switching(now).label("switching"))
            .where(*filters)
            .order_by(a.created_at.desc(), a.agent_id.asc())
            .limit(page.limit)
            .offset(page.offset)
        )
        rows: Sequence[Any] = (await self._db.execute(stmt)).all()
        agents = [(self._db.load(AGENTS, row[0]), bool(row[1])) for row in rows]
        replicas = await self._live_replicas([agent.agent_id for agent, _ in agents])
        views = []
        for agent, is_switching in agents:
            own = replicas.get(agent.agent_id, [])
            best = current_replica(own)
            views.append(
                AgentView(
                    agent=agent,
                    switching=is_switching,
                    replica_count=len(own),
                    current_replica_id=best.replica_id if best else None,
                )
            )
        return views, total

    async def _live_replicas(self, agent_ids: list[Any]) -> dict[str, list[Replica]]:
        r = ReplicaModel
        stmt = select(r).where(r.agent_id.in_(agent_ids), r.status.in_([s.value for s in NON_TERMINAL_REPLICA]))
        found: dict[str, list[Replica]] = {}
        for model in (await self._db.execute(stmt)).scalars():
            replica = self._db.load(REPLICAS, model)
            found.setdefault(replica.agent_id, []).append(replica)
        return found

    async def fleet_counts(self, client_id: ClientId) -> FleetCounts:
        i = InstanceModel
        active = and_(a.client_id == client_id, a.lifecycle == Lifecycle.ACTIVE.value)
        agents_stmt = select(
            func.count(),
            func.coalesce(func.sum(case((a.liveness == Liveness.ONLINE.value, 1), else_=0)), 0),
            func.max(a.last_heartbeat_at),
        ).where(active)
        # MAX() keeps the column's type (``ReturnTypeFromArgs``): an aware UTC datetime.
        summary: Any = (await self._db.execute(agents_stmt)).one()
        count, online, last_heartbeat = summary
        roles_stmt = (
            select(i.role, func.count())
            .join(a, and_(a.client_id == i.client_id, a.agent_id == i.agent_id))
            .where(active, i.role != InstanceRole.TERMINATED.value)
            .group_by(i.role)
        )
        role_rows: Sequence[Any] = (await self._db.execute(roles_stmt)).all()
        roles: dict[str, int] = {row[0]: row[1] for row in role_rows}
        return FleetCounts(
            agent_count=int(count),
            agents_online=int(online),
            primary_count=int(roles.get(InstanceRole.PRIMARY.value, 0)),
            standby_count=int(roles.get(InstanceRole.STANDBY.value, 0)),
            kept_old_count=int(roles.get(InstanceRole.KEPT_OLD.value, 0)),
            last_heartbeat_at=last_heartbeat,
        )
