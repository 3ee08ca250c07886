"""A12 / A13: a decision for the agent now, on request (domain §6, DP-5, DP-14)."""

from __future__ import annotations

from dataclasses import dataclass

from spotopt.application.decisions.decision_inputs import DecisionInputs, decide_with_fallback
from spotopt.application.decisions.estimator_fallback import record_estimator_fallback
from spotopt.application.errors import NotFoundError
from spotopt.application.ports.decisions import DecisionEngine, PolicyStore
from spotopt.application.ports.system import Clock
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import Trigger
from spotopt.domain.shared.errors import InvalidValueError
from spotopt.domain.shared.ids import ClientId, new_id
from spotopt.domain.shared.pools import Mode

REQUEST_TRIGGERS = frozenset({Trigger.DECIDE_REQUEST, Trigger.RECOMMENDATION_REQUEST})


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppliedPlacement:
    """DP-5: the placement a request claims. It is only compared with the server's, never used."""

    instance_id: str | None = None
    instance_type: str | None = None
    region: str | None = None
    az: str | None = None
    mode: Mode | None = None
    pool_id: str | None = None

    def differs_from(self, agent: Agent) -> bool:
        """A claimed fact that contradicts the server's; ``unknown`` placeholders claim nothing (pitfall 13)."""
        claims = (
            (self.instance_id, agent.primary_instance_id),
            (self.instance_type, agent.instance_type),
            (self.region, agent.region),
            (self.az, agent.az),
            (self.mode, agent.mode),
            (self.pool_id, agent.pool_id),
        )
        return any(claim not in (None, "", Mode.UNKNOWN) and claim != known for claim, known in claims)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecideForAgentCommand:
    client_id: ClientId
    agent_id: str
    trigger: Trigger = Trigger.DECIDE_REQUEST
    supplied: SuppliedPlacement | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecideForAgentResult:
    decision: Decision
    logical_agent_id: str


class DecideForAgent:
    """- DP-5: decided from server state only; a supplied placement that differs adds ``placement_mismatch``, and
      supplied prices are never read.
    - DP-3: an engine failure falls back to the rule estimator; the request never fails because of the engine, and
      a ``catboost`` decision that fell back records ``estimator_fallback`` (at most one per 10 min).
    - DP-14: the decision is stored (trigger ``decide_request`` or ``recommendation_request``); no command.
    - §3.6: ``will_auto_execute`` holds only in auto-switch mode for an enabled agent and an allowed move.
    """

    def __init__(
        self, uow: UnitOfWork, clock: Clock, engine: DecisionEngine, policies: PolicyStore, inputs: DecisionInputs
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._engine = engine
        self._policies = policies
        self._inputs = inputs

    async def execute(self, command: DecideForAgentCommand) -> DecideForAgentResult:
        if command.trigger not in REQUEST_TRIGGERS:
            raise InvalidValueError("trigger", "must be decide_request or recommendation_request")
        agent = await self._uow.agents.get(command.client_id, command.agent_id)
        if agent is None:
            raise NotFoundError("Agent not found")
        now = self._clock.now()
        policy = await self._policies.active()
        mismatch = command.supplied is not None and command.supplied.differs_from(agent)
        inp = await self._inputs.for_agent(
            agent, trigger=command.trigger, now=now, placement_mismatch=mismatch, features=policy.uses_models
        )
        decision = (await decide_with_fallback(self._engine, inp, policy, now)).with_ids(new_id())
        await self._uow.decisions.add(decision)
        await record_estimator_fallback(self._uow, decision, now)
        await self._uow.commit()
        return DecideForAgentResult(decision=decision, logical_agent_id=agent.logical_agent_id)
