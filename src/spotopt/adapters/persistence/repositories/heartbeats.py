"""``LivenessRefresher`` on SQL: ``refresh_applies`` as the WHERE clause of the heartbeat's one statement.

MySQL/MariaDB: one multi-table ``UPDATE agents, instances SET … WHERE …`` (the row count says whether it applied:
the dialect counts matched rows, changed or not). SQLite has no multi-table UPDATE: the instance's UPDATE carries
every condition (the agent's as ``EXISTS``), then the agent's runs only when it matched; the transaction's first
write took SQLite's write lock (CC-9), so nothing changes in between. Facts compare as bytes: MariaDB's default
collation would match ``T3.MICRO`` to ``t3.micro``, which H-2 treats as a correction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, String, and_, cast, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from spotopt.adapters.persistence.entities import translated
from spotopt.adapters.persistence.models.agents import AgentModel, InstanceModel
from spotopt.domain.agents.liveness_refresh import LivenessRefresh
from spotopt.domain.agents.values import InstanceRole, Lifecycle, Liveness

_FACT_COLUMNS = {"mode": InstanceModel.mode, "instance_type": InstanceModel.instance_type, "az": InstanceModel.az}


class SqlAlchemyLivenessRefresher:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def refresh(self, refresh: LivenessRefresh) -> bool:
        mysql = self._session.get_bind().dialect.name in {"mysql", "mariadb"}
        with translated():
            if mysql:
                return await self._one_statement(refresh)
            return await self._two_statements(refresh)

    async def _one_statement(self, r: LivenessRefresh) -> bool:
        a, i = AgentModel, InstanceModel
        stmt = (
            update(a)
            .where(*_agent_conditions(r), *_instance_conditions(r, binary=True), i.agent_id == a.agent_id)
            .values({a.last_heartbeat_at: r.now, a.reported_status: r.status.value, i.last_seen_at: r.now})
            .execution_options(synchronize_session=False)
        )
        result: Any = await self._session.execute(stmt)
        return bool(result.rowcount)

    async def _two_statements(self, r: LivenessRefresh) -> bool:
        a, i = AgentModel, InstanceModel
        agent_ok = exists(select(a.agent_id).where(*_agent_conditions(r), a.agent_id == i.agent_id))
        touched: Any = await self._session.execute(
            update(i)
            .where(*_instance_conditions(r, binary=False), agent_ok)
            .values(last_seen_at=r.now)
            .execution_options(synchronize_session=False)
        )
        if not touched.rowcount:
            return False
        await self._session.execute(
            update(a)
            .where(a.client_id == r.client_id, a.agent_id == r.agent_id)
            .values(last_heartbeat_at=r.now, reported_status=r.status.value)
            .execution_options(synchronize_session=False)
        )
        return True


def _agent_conditions(r: LivenessRefresh) -> list[ColumnElement[bool]]:
    a = AgentModel
    return [
        a.client_id == r.client_id,
        a.agent_id == r.agent_id,
        a.lifecycle == Lifecycle.ACTIVE.value,
        a.liveness == Liveness.ONLINE.value,
        or_(a.last_heartbeat_at.is_(None), a.last_heartbeat_at <= r.now),
    ]


def _instance_conditions(r: LivenessRefresh, *, binary: bool) -> list[ColumnElement[bool]]:
    i = InstanceModel
    conditions = [i.client_id == r.client_id, i.instance_id == r.instance_id, i.role == InstanceRole.PRIMARY.value]
    for name, value in r.expected:
        column = _FACT_COLUMNS[name]
        if binary:
            conditions.append(cast(column, LargeBinary) == cast(literal(value, String()), LargeBinary))
        else:
            conditions.append(column == value)
    return [and_(*conditions)]
