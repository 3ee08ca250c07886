"""Ports of the interruptions feature: signals and episodes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from spotopt.domain.decisions.estimation import PoolStats
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.shared.ids import AgentId, EpisodeId


class EpisodeRepository(Protocol):
    async def get(self, episode_id: EpisodeId) -> InterruptionEpisode | None: ...

    async def find_open(self, agent_id: AgentId, instance_id: str | None = None) -> Sequence[InterruptionEpisode]: ...

    async def latest_for_instance(self, agent_id: AgentId, instance_id: str) -> InterruptionEpisode | None: ...

    async def add(self, episode: InterruptionEpisode) -> None: ...


class SignalRepository(Protocol):
    async def add(self, signal: InterruptionSignal) -> None: ...

    async def fleet_stats(self, pool_ids: Sequence[str], now: datetime) -> dict[str, PoolStats]:
        """§6.2 fleet statistics per pool, fleet-wide and whatever the agents' settings (EP-8, C-6).

        ``t24``/``t7``/``t30`` count distinct instances with a termination notice received in the last 24 h / 7 d /
        30 d (``received_at`` in ``(now - window, now]``), ``r24``/``r7`` the same for rebalance recommendations; a
        signal naming no instance counts as its agent's primary. ``last_notice_at`` is the newest notice within
        30 d. Pools without a signal in 30 d are absent. ``exposure_hours_7d`` is left 0 (ledger, not signals).
        """
        ...
