"""Continuing a ``terminating`` episode (domain §3.7.2): which replica to promote, and promoting it.

Shared by the notice handlers (R8, R9), the replica reports that make a replica ready (L7: R5, R6, R7) and the
replica coordinator. Runs in the caller's transaction under its agent lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.replicas.promotion import Promotion, PromotionResult
from spotopt.domain.agents.agent import Agent
from spotopt.domain.interruptions.emergency import episode_lost
from spotopt.domain.interruptions.episode import InterruptionEpisode
from spotopt.domain.interruptions.values import EpisodeState
from spotopt.domain.replicas.guards import PromotionKind, promotable
from spotopt.domain.replicas.replica import Replica


@dataclass(frozen=True, slots=True)
class Pick:
    replica: Replica
    kind: PromotionKind


def pick_for_failover(
    replicas: Sequence[Replica], episode: InterruptionEpisode, now: datetime, preferred_id: str | None = None
) -> Pick | None:
    """RP-4 on the emergency path: a ready replica (RP-4a) first, else a syncing one with an instance id when the
    deadline is less than 30 s away (RP-4b). The request's preferred replica, then the episode's, then the oldest.
    """
    live = [r for r in replicas if r.is_active]
    order = sorted(live, key=lambda r: (r.replica_id != preferred_id, r.replica_id != episode.replica_id, r.created_at))
    ready = [r for r in order if _kind(r, episode, now, any_ready=False) is PromotionKind.READY]
    if ready:
        return Pick(ready[0], PromotionKind.READY)
    degraded = [r for r in order if _kind(r, episode, now, any_ready=False) is PromotionKind.DEGRADED]
    return Pick(degraded[0], PromotionKind.DEGRADED) if degraded else None


def _kind(replica: Replica, episode: InterruptionEpisode, now: datetime, *, any_ready: bool) -> PromotionKind | None:
    return promotable(
        replica,
        emergency=True,
        episode_terminating=episode.state is EpisodeState.TERMINATING,
        deadline=episode.deadline,
        now=now,
        any_ready_promotable=any_ready,
    )


class Failover:
    """- §3.7.2 step 3/5 and the coordinator's promotion rows: promote when RP-4 holds, before or after the deadline
      (after it the episode is ``late``).
    - L7: a replica that became ready while an episode of the agent is ``terminating`` is promoted in the same
      transaction.
    """

    def __init__(self, uow: UnitOfWork, promotion: Promotion) -> None:
        self._uow = uow
        self._promotion = promotion

    @property
    def promotion(self) -> Promotion:
        return self._promotion

    async def pick(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, preferred_id: str | None = None
    ) -> Pick | None:
        return pick_for_failover(await self._uow.replicas.list_for_agent(agent.agent_id), episode, now, preferred_id)

    async def continue_episode(
        self, agent: Agent, episode: InterruptionEpisode, now: datetime, preferred_id: str | None = None
    ) -> PromotionResult | None:
        if episode.state is not EpisodeState.TERMINATING or episode_lost(episode, now):
            return None  # the late-failover window ends at deadline + 15 min (V10)
        choice = await self.pick(agent, episode, now, preferred_id)
        if choice is None:
            return None
        return await self._promotion.promote(agent, choice.replica, now, kind=choice.kind, episode=episode)

    async def after_ready(self, agent: Agent, now: datetime) -> PromotionResult | None:
        """L7: promotion is attempted when an episode of the agent is ``terminating``."""
        for episode in await self._uow.episodes.find_open(agent.agent_id):
            result = await self.continue_episode(agent, episode, now)
            if result is not None:
                return result
        return None
