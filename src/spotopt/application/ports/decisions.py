"""Ports of the decisions feature: stored decisions, the decision engine and the policy store."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import DecisionInput, Trigger
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.ids import AgentId


class DecisionRepository(Protocol):
    """Stored decisions (DP-14, DP-15); a decision is stored with its ``decision_id`` and never changed."""

    async def add(self, decision: Decision) -> None: ...

    async def get(self, decision_id: str) -> Decision | None: ...

    async def latest_for_agent(self, agent_id: AgentId, *, trigger: Trigger | None = None) -> Decision | None:
        """The agent's newest stored decision (of ``trigger`` when given), by ``evaluated_at`` then id."""
        ...


class DecisionEngine(Protocol):
    """DP-1: the decision policy plus an estimator, for the policy's ``engine_kind``.

    Never raises because of the estimator: a pool the estimator cannot score in time is scored by the rule
    estimator (DP-3, per component and per call). The decision reports ``engine_kind``, the model versions and
    ``fallback_used``. Pure with respect to the database: it reads nothing and writes nothing.
    """

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision: ...


class PolicyStore(Protocol):
    """The active decision-policy document (DP-17, DP-18); the built-in default until one is uploaded. Never raises."""

    async def active(self) -> PolicyDocument: ...
