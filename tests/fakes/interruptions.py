"""Fakes of the interruptions ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import OPEN_EPISODE, SignalKind
from spotopt.domain.shared.ids import AgentId, EpisodeId
from tests.fakes.store import InMemoryRepository


class InMemoryEpisodeRepository(InMemoryRepository):
    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None:
        return self.store.episodes.get(episode_id)

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]:
        found = [
            e
            for e in self.store.episodes.values()
            if e.agent_id == agent_id
            and e.state in OPEN_EPISODE
            and (instance_id is None or e.instance_id == instance_id)
        ]
        return sorted(found, key=lambda e: e.opened_at)

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None:
        found = [e for e in self.store.episodes.values() if e.agent_id == agent_id and e.instance_id == instance_id]
        return max(found, key=lambda e: (e.opened_at, e.episode_id), default=None)

    async def add(self, episode: InterruptionEpisode) -> None:
        self.store.episodes[episode.episode_id] = episode


class InMemorySignalRepository(InMemoryRepository):
    async def add(self, signal: InterruptionSignal) -> None:
        self.store.signals.append(signal)

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        return {
            pool_id: _pool_stats([s for s in self.store.signals if s.pool_id == pool_id], now)
            for pool_id in dict.fromkeys(pool_ids)
            if any(s.pool_id == pool_id and now - timedelta(days=30) < s.received_at <= now for s in self.store.signals)
        }


def _pool_stats(signals: Sequence[InterruptionSignal], now: datetime) -> PoolStats:
    """EP-8: distinct instances (the agent stands in for a signal naming none) per kind and window."""

    def count(kind: SignalKind, window: timedelta) -> int:
        return len(
            {s.instance_id or s.agent_id for s in signals if s.kind is kind and now - window < s.received_at <= now}
        )

    notices = [
        s.received_at
        for s in signals
        if s.kind is SignalKind.TERMINATION and now - timedelta(days=30) < s.received_at <= now
    ]
    day, week = timedelta(hours=24), timedelta(days=7)
    return PoolStats(
        t24=count(SignalKind.TERMINATION, day),
        t7=count(SignalKind.TERMINATION, week),
        t30=count(SignalKind.TERMINATION, timedelta(days=30)),
        r24=count(SignalKind.REBALANCE, day),
        r7=count(SignalKind.REBALANCE, week),
        last_notice_at=max(notices, default=None),
    )
