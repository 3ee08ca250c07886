"""The ``catboost`` decision engine (DP-1, DP-3): the shared policy with the CatBoost estimator, inference on the
bounded executor within the policy's time budget, and the rule estimator for any component that cannot score in
time. A policy of kind ``rules`` is answered by the rule engine unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from spotopt.adapters.ml.catboost_estimator import Scores, combine, ordered_rows, valid_scores
from spotopt.adapters.ml.catboost_models import Predictor
from spotopt.adapters.ml.executor import InferenceBusyError, InferenceExecutor, InferenceTimeoutError
from spotopt.adapters.ml.live_models import LiveModelSource
from spotopt.application.decisions.decision_inputs import rules_decision
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.estimation import PoolEstimate, PoolSnapshot, RuleEstimator
from spotopt.domain.decisions.features import FeatureRow
from spotopt.domain.decisions.inputs import DecisionInput
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind, PolicyDocument
from spotopt.domain.decisions.recommendation import decide

log = logging.getLogger(__name__)
_LOG_EVERY_SECONDS = 60.0
_COMPONENTS = (ModelKind.INTERRUPTION_RISK, ModelKind.PRICE_FORECAST)


class CatBoostDecisionEngine:
    def __init__(self, models: LiveModelSource, executor: InferenceExecutor) -> None:
        self._models = models
        self._executor = executor
        self._logged: dict[tuple[ModelKind, str], float] = {}
        self._resolving: asyncio.Future[dict[ModelKind, Predictor | None]] | None = None

    async def decide(self, inp: DecisionInput, policy: PolicyDocument, now: datetime) -> Decision:
        if policy.engine_kind is EngineKind.RULES:
            return rules_decision(inp, policy, now)
        budget = policy.estimator_budgets_ms.decision / 1000
        estimates = await self.estimate(inp.pools, policy, now, budget_seconds=budget)
        return decide(inp, estimates, policy, now)

    async def estimate(
        self, pools: Sequence[PoolSnapshot], policy: PolicyDocument, now: datetime, *, budget_seconds: float
    ) -> dict[str, PoolEstimate]:
        """DP-2 estimates within ``budget_seconds`` (the policy's 200 ms for decisions, 50 ms on emergency paths)."""
        rules = RuleEstimator.for_policy(policy)
        if not pools:
            return {}
        deadline = time.monotonic() + budget_seconds
        missing = "no loadable live or fallback model"
        try:
            predictors = await asyncio.wait_for(asyncio.shield(self._resolution()), budget_seconds)
        except TimeoutError:
            predictors, missing = {}, "the model pointers were not read within the time budget"
        except Exception as exc:  # no model source means rules for both components (DP-3)
            predictors, missing = {}, f"models unavailable: {exc!r}"
        rows = ordered_rows(pools, now)
        risk, price = await asyncio.gather(
            *(self._score(kind, predictors.get(kind), rows, deadline, missing) for kind in _COMPONENTS)
        )
        return combine(pools, rules, risk, price)

    def _resolution(self) -> asyncio.Future[dict[ModelKind, Predictor | None]]:
        """One shared resolution at a time; a slow first load finishes in the background for later decisions
        instead of being cancelled by every decision's budget.
        """
        if self._resolving is None or self._resolving.done():
            self._resolving = asyncio.ensure_future(self._models.predictors())
            self._resolving.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self._resolving

    async def _score(
        self, kind: ModelKind, predictor: Predictor | None, rows: list[FeatureRow], deadline: float, missing: str
    ) -> Scores | None:
        if predictor is None:
            self._note(kind, missing)
            return None
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise InferenceTimeoutError
            values = await self._executor.run(lambda: predictor.predict(rows), remaining)
        except InferenceTimeoutError:
            self._note(kind, f"{predictor.name} exceeded the time budget")
            return None
        except InferenceBusyError:
            self._note(kind, "every inference slot is busy")
            return None
        except Exception as exc:  # a model that fails to score falls back, never fails the decision
            self._note(kind, f"{predictor.name} failed to score: {exc!r}")
            return None
        return valid_scores(kind, predictor.name, values, len(rows))

    def _note(self, kind: ModelKind, reason: str) -> None:
        """Log a fallback reason at most once a minute per kind and reason (the event is the use case's)."""
        key = (kind, reason.split(":", maxsplit=1)[0])
        now = time.monotonic()
        if now - self._logged.get(key, -_LOG_EVERY_SECONDS) >= _LOG_EVERY_SECONDS:
            self._logged[key] = now
            log.warning("estimator fallback for %s: %s", kind.value, reason)
