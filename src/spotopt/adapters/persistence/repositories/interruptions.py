"""Interruption episodes and signals (ports in ``application/ports/interruptions.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from spotopt.adapters.persistence.mappers.interruptions import EPISODES, SIGNALS
from spotopt.adapters.persistence.models.base import table_of
from spotopt.adapters.persistence.models.interruptions import EpisodeModel, SignalModel
from spotopt.adapters.persistence.repositories.base import SqlAlchemyRepository
from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import OPEN_EPISODE, SignalKind
from spotopt.domain.shared.ids import AgentId, EpisodeId

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


class SqlAlchemyEpisodeRepository(SqlAlchemyRepository[InterruptionEpisode, EpisodeModel]):
    mapper = EPISODES

    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None:
        return await self._one(select(EpisodeModel).where(EpisodeModel.episode_id == episode_id))

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]:
        e = EpisodeModel
        filters = [e.agent_id == agent_id, e.state.in_([s.value for s in OPEN_EPISODE])]
        if instance_id is not None:
            filters.append(e.instance_id == instance_id)
        return await self._list(*filters, order_by=[e.opened_at.asc()])

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None:
        e = EpisodeModel
        stmt = (
            select(e)
            .where(e.agent_id == agent_id, e.instance_id == instance_id)
            .order_by(e.opened_at.desc(), e.episode_id.desc())
            .limit(1)
        )
        return await self._one(stmt)

    async def add(self, episode: InterruptionEpisode) -> None:
        self._db.add(EPISODES, episode)


class SqlAlchemySignalRepository(SqlAlchemyRepository[InterruptionSignal, SignalModel]):
    """Signals are appended (EP-2): written at the next flush, after the episode they name."""

    mapper = SIGNALS

    async def add(self, signal: InterruptionSignal) -> None:
        self._db.session.add(SIGNALS.to_model(signal))

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        """EP-8 / §6.2: distinct instances per pool and window, from every signal of the fleet (bulk, Core)."""
        unique = list(dict.fromkeys(pool_ids))
        found: dict[str, PoolStats] = {}
        for start in range(0, len(unique), POOL_BATCH):
            rows = (await self._db.execute(_stats_query(unique[start : start + POOL_BATCH], now))).mappings().all()
            for row in rows:
                found[row["pool_id"]] = PoolStats(
                    t24=int(row["t24"]), t7=int(row["t7"]), t30=int(row["t30"]), r24=int(row["r24"]),
                    r7=int(row["r7"]), last_notice_at=row["last_notice_at"],
                )  # fmt: skip
        return found


def _stats_query(pool_ids: list[str], now: datetime) -> Select[Any]:
    s = table_of(SignalModel).c
    # EP-7: a signal naming no instance belongs to the agent's primary, so the agent stands in for it.
    instance = func.coalesce(s.instance_id, s.agent_id)

    def distinct(kind: SignalKind, window: timedelta) -> ColumnElement[Any]:
        return func.count(func.distinct(case((and_(s.kind == kind.value, s.received_at > now - window), instance))))

    last_notice = func.max(case((s.kind == SignalKind.TERMINATION.value, s.received_at)))
    return (
        select(
            s.pool_id,
            *(distinct(kind, window).label(name) for name, (kind, window) in _WINDOWS.items()),
            last_notice.label("last_notice_at"),
        )
        .where(s.pool_id.in_(pool_ids), s.received_at > now - _LONGEST, s.received_at <= now)
        .group_by(s.pool_id)
    )
