"""The rule decision engine (DP-1): the shared domain policy with the rule estimator of §6.8 only."""

from __future__ import annotations

from datetime import datetime

from spotopt.application.decisions.decision_inputs import rules_decision
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.inputs import DecisionInput
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument


class RulesDecisionEngine:
    """The always-available engine: pure and instant (no time budget needed).

    Serving a policy that asks for ``catboost`` is DP-3's "model missing" case: every estimate and the decision
    say ``fallback_used``. The running program uses ``CatBoostDecisionEngine``, which answers ``rules`` policies
    exactly like this engine; this one stays for tests and tools that must never load a model.
    """

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision:
        return rules_decision(inp, policy, now, fallback=policy.engine_kind is not EngineKind.RULES)
