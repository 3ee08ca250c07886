"""Fakes of the decisions ports."""

from __future__ import annotations

from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.ids import AgentId
from tests.fakes.store import InMemoryRepository


class InMemoryDecisionRepository(InMemoryRepository):
    async def add(self, decision: Decision) -> None:
        assert decision.decision_id is not None, "a stored decision needs its id"
        self.store.decisions[decision.decision_id] = decision

    async def get(self, decision_id: str) -> Decision | None:
        return self.store.decisions.get(decision_id)

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        found = [
            d
            for d in self.store.decisions.values()
            if d.agent_id == agent_id and (trigger is None or d.trigger is trigger)
        ]
        return max(found, key=lambda d: (d.evaluated_at, d.decision_id or ""), default=None)
