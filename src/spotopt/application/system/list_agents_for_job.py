"""Which agents a per-agent background job visits this tick (CC-4: references only, one agent per transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from spotopt.application.ports.agents import AgentRef
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.shared.ids import AgentId


class AgentJob(StrEnum):
    COORDINATE_REPLICAS = "coordinate_replicas"
    EVALUATE_AUTO_SWITCH = "evaluate_auto_switch"


@dataclass(frozen=True, slots=True, kw_only=True)
class ListAgentsForJobQuery:
    job: AgentJob
    after: AgentId | None = None
    limit: int = 200


class ListAgentsForJob:
    """- Coordinator: manual-replica agents and agents with an episode, replica or kept-old instance to watch.
    - Evaluator: auto-switching, enabled, online agents with no episode and no switch in flight (§7.2 inputs).
    - Keyset paging by agent id; the job re-reads every agent under its lock.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, query: ListAgentsForJobQuery) -> Sequence[AgentRef]:
        if query.job is AgentJob.COORDINATE_REPLICAS:
            return await self._uow.agents.agents_needing_coordination(query.limit, after=query.after)
        return await self._uow.agents.list_evaluable_agents(query.limit, after=query.after)
