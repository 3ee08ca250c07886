"""SQL for the decision inputs (§6.2) and the decision store (DP-14): batched, one query per batch of pools."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from spotopt.adapters.persistence import tables as t
from spotopt.adapters.persistence.mapper import Tracker
from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.commands import SwitchActivity
from spotopt.domain.agents.values import Lifecycle, Liveness
from spotopt.domain.commands.values import CommandOrigin, CommandStatus, CommandType
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.interruptions.values import OPEN_EPISODE, SignalKind
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import AgentId, ClientId

# Keeps every IN list well below the parameter limits of SQLite and MySQL.
POOL_BATCH = 500
_WINDOWS = {
    "t24": (SignalKind.TERMINATION, timedelta(hours=24)),
    "t7": (SignalKind.TERMINATION, timedelta(days=7)),
    "t30": (SignalKind.TERMINATION, timedelta(days=30)),
    "r24": (SignalKind.REBALANCE, timedelta(hours=24)),
    "r7": (SignalKind.REBALANCE, timedelta(days=7)),
}
_LONGEST = timedelta(days=30)
_LIVE_SWITCH = [CommandStatus.PENDING.value, CommandStatus.DELIVERED.value]
_FINISHED = [CommandStatus.COMPLETED.value, CommandStatus.FAILED.value]


async def fleet_stats(session: AsyncSession, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
    """EP-8 / §6.2: distinct instances per pool and window, from every signal of the fleet."""
    unique = list(dict.fromkeys(pool_ids))
    found: dict[str, PoolStats] = {}
    for start in range(0, len(unique), POOL_BATCH):
        rows = (await session.execute(_stats_query(unique[start : start + POOL_BATCH], now))).mappings().all()
        for row in rows:
            found[row["pool_id"]] = PoolStats(
                t24=int(row["t24"]), t7=int(row["t7"]), t30=int(row["t30"]), r24=int(row["r24"]), r7=int(row["r7"]),
                last_notice_at=row["last_notice_at"],
            )  # fmt: skip
    return found


def _stats_query(pool_ids: list[str], now: datetime) -> Select[Any]:
    c = t.signals.c
    # EP-7: a signal naming no instance belongs to the agent's primary, so the agent stands in for it.
    instance = func.coalesce(c.instance_id, c.agent_id)

    def distinct(kind: SignalKind, window: timedelta) -> ColumnElement[Any]:
        return func.count(func.distinct(case((and_(c.kind == kind.value, c.received_at > now - window), instance))))

    last_notice = func.max(case((c.kind == SignalKind.TERMINATION.value, c.received_at)))
    return (
        select(
            c.pool_id,
            *(distinct(kind, window).label(name) for name, (kind, window) in _WINDOWS.items()),
            last_notice.label("last_notice_at"),
        )
        .where(c.pool_id.in_(pool_ids), c.received_at > now - _LONGEST, c.received_at <= now)
        .group_by(c.pool_id)
    )


async def switch_activity(session: AsyncSession, agent_id: AgentId, since: datetime) -> SwitchActivity:
    """§6.2 counters: non-emergency switch deliveries since ``since`` (not failed) and the last finished switch."""
    c = t.commands.c
    is_switch = and_(c.agent_id == agent_id, c.type == CommandType.SWITCH.value)
    delivered = (
        select(c.delivered_at)
        .where(
            is_switch,
            c.origin != CommandOrigin.EMERGENCY.value,
            c.status != CommandStatus.FAILED.value,
            c.delivered_at >= since,
        )
        .order_by(c.delivered_at)
    )
    last = select(func.max(c.completed_at)).where(is_switch, c.status.in_(_FINISHED))
    times = tuple((await session.execute(delivered)).scalars().all())
    return SwitchActivity(delivered_at=times, last_finished_at=(await session.execute(last)).scalar())


async def evaluable_agents(session: AsyncSession, limit: int, after: AgentId | None) -> list[AgentRef]:
    """§7.2 evaluator inputs in one query: the flags, liveness, no open episode, no live switch."""
    a, e, cmd = t.agents.c, t.episodes.c, t.commands.c
    open_episode = exists().where(e.agent_id == a.agent_id, e.state.in_([s.value for s in OPEN_EPISODE]))
    live_switch = exists().where(
        cmd.agent_id == a.agent_id, cmd.type == CommandType.SWITCH.value, cmd.status.in_(_LIVE_SWITCH)
    )
    stmt = select(a.client_id, a.agent_id).where(
        a.lifecycle == Lifecycle.ACTIVE.value,
        a.enabled == true(),
        a.auto_switch_enabled == true(),
        a.liveness == Liveness.ONLINE.value,
        ~open_episode,
        ~live_switch,
    )
    if after is not None:
        stmt = stmt.where(a.agent_id > after)
    rows = (await session.execute(stmt.order_by(a.agent_id).limit(limit))).all()
    return [AgentRef(client_id=ClientId(r.client_id), agent_id=AgentId(r.agent_id)) for r in rows]


class SqlAlchemyDecisionRepository:
    """Decisions are immutable once stored (DP-14, DP-15); they are inserted when the unit of work flushes."""

    def __init__(self, session: AsyncSession, tracker: Tracker) -> None:
        self._session = session
        self._tracker = tracker

    async def add(self, decision: Decision) -> None:
        if decision.decision_id is None:
            raise InvalidValueError("decision_id", "a stored decision needs its id")
        self._tracker.add(decision)

    async def get(self, decision_id: str) -> Decision | None:
        return await self._first(select(t.decisions).where(t.decisions.c.decision_id == decision_id))

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        c = t.decisions.c
        stmt = select(t.decisions).where(c.agent_id == agent_id)
        if trigger is not None:
            stmt = stmt.where(c.trigger == trigger.value)
        return await self._first(stmt.order_by(c.evaluated_at.desc(), c.decision_id.desc()).limit(1))

    async def _first(self, stmt: Select[Any]) -> Decision | None:
        row = (await self._session.execute(stmt)).mappings().first()
        return None if row is None else self._tracker.load(Decision, row)
