"""SQL for the replica routes and the replica coordinator (api R2, domain §7.2 coordinator inputs, EP-4 locks)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.mapper import Tracker
from spotopt.application.ports.agents import AgentRef
from spotopt.domain.agents.values import InstanceRole, KeptReason, Lifecycle
from spotopt.domain.interruptions.values import OPEN_EPISODE
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import NON_TERMINAL_REPLICA, ReplicaStatus
from spotopt.domain.shared.ids import AgentId, ClientId


def bounded_lock(stmt: Select[Any], session: AsyncSession, wait_seconds: int) -> Select[Any]:
    """EP-4/pitfall 11: a row lock that waits at most ``wait_seconds`` (MariaDB ``WAIT n``, MySQL ``NOWAIT``).

    SQLite serialises writers at ``BEGIN IMMEDIATE`` (CC-9), so a plain ``FOR UPDATE`` (ignored there) is enough.
    """
    dialect = session.get_bind().dialect
    if dialect.name != "mysql":
        return stmt.with_for_update()
    if getattr(dialect, "is_mariadb", False):
        return stmt.with_for_update().suffix_with(f"WAIT {max(0, int(wait_seconds))}")
    return stmt.with_for_update(nowait=True)


async def replica_page(
    session: AsyncSession,
    tracker: Tracker,
    agent_id: AgentId,
    statuses: Collection[ReplicaStatus],
    limit: int,
    offset: int,
) -> tuple[list[Replica], int]:
    c = t.replicas.c
    where = (c.agent_id == agent_id, c.status.in_([s.value for s in statuses]))
    total = int((await session.execute(select(func.count()).select_from(t.replicas).where(*where))).scalar_one())
    stmt = select(t.replicas).where(*where).order_by(c.created_at.desc(), c.replica_id).limit(limit).offset(offset)
    rows = (await session.execute(stmt)).mappings().all()
    return [tracker.load(Replica, dict(row)) for row in rows], total


async def agents_needing_coordination(session: AsyncSession, limit: int, after: AgentId | None) -> list[AgentRef]:
    a, r, e, i = t.agents.c, t.replicas.c, t.episodes.c, t.instances.c
    live_replica = exists().where(r.agent_id == a.agent_id, r.status.in_([s.value for s in NON_TERMINAL_REPLICA]))
    open_episode = exists().where(e.agent_id == a.agent_id, e.state.in_([s.value for s in OPEN_EPISODE]))
    awaiting = exists().where(
        i.agent_id == a.agent_id,
        i.role == InstanceRole.KEPT_OLD.value,
        i.kept_reason == KeptReason.AWAITING_TERMINATION.value,
    )
    stmt = (
        select(a.client_id, a.agent_id)
        .where(
            a.lifecycle == Lifecycle.ACTIVE.value,
            or_(a.manual_replica_enabled.is_(True), live_replica, open_episode, awaiting),
        )
        .order_by(a.agent_id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(a.agent_id > after)
    rows = (await session.execute(stmt)).all()
    return [AgentRef(client_id=ClientId(row.client_id), agent_id=AgentId(row.agent_id)) for row in rows]
