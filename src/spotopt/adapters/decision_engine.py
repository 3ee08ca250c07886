"""Decision engines (DP-1): the shared domain policy plus an estimator. Only the rule estimator exists so far."""

from __future__ import annotations

from datetime import datetime

from spotopt.application.decisions.decision_inputs import rules_decision
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import DecisionInput
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument


class RulesDecisionEngine:
    """The always-available engine: the rule estimator of §6.8, pure and instant (no time budget needed).

    A policy that asks for ``catboost`` is served by the rules too until a model store exists: DP-3's "model
    missing" case, so every estimate and the decision say ``fallback_used``. The decision still reports the
    policy's ``engine_kind`` and ``rules-<policy_version>`` as the model version.
    """

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision:
        return rules_decision(inp, policy, now, fallback=policy.engine_kind is not EngineKind.RULES)
