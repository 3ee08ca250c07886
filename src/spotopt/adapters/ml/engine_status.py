"""Which engine really serves decisions (H1 ``decision_engine``, M11): read the way decisions read (DP-3, DP-22)."""

from __future__ import annotations

import logging

from spotopt.adapters.ml.live_models import CachedModelRegistry, LiveModelSource
from spotopt.application.ports.decisions import EngineState, PolicyStore
from spotopt.domain.decisions.models import ModelKind
from spotopt.domain.decisions.policy import EngineKind

log = logging.getLogger(__name__)


class LiveEngineStatus:
    """``rules`` policies never fall back. A ``catboost`` policy is in fallback while a kind is served by its
    fallback version or by the rule estimator (no loadable model), as the decisions themselves would be.
    """

    def __init__(self, policies: PolicyStore, registry: CachedModelRegistry, models: LiveModelSource) -> None:
        self._policies = policies
        self._registry = registry
        self._models = models

    async def current(self) -> EngineState:
        policy = await self._policies.active()
        if policy.engine_kind is EngineKind.RULES:
            return EngineState(
                engine_kind=EngineKind.RULES.value,
                policy_version=policy.policy_version,
                risk_model_version=None,
                price_model_version=None,
                fallback_active=False,
            )
        try:
            pointers = await self._registry.live()
            serving = await self._models.predictors()
        except Exception:  # the health document never fails because of the models
            log.warning("model pointers unreadable for the engine status", exc_info=True)
            pointers, serving = {}, {}
        names = {kind: (p.name if (p := serving.get(kind)) is not None else None) for kind in ModelKind}
        live = {kind: (v.name if (lp := pointers.get(kind)) and (v := lp.live) else None) for kind in ModelKind}
        fallback = any(names[kind] is None or names[kind] != live[kind] for kind in ModelKind)
        return EngineState(
            engine_kind=EngineKind.CATBOOST.value,
            policy_version=policy.policy_version,
            risk_model_version=names[ModelKind.INTERRUPTION_RISK],
            price_model_version=names[ModelKind.PRICE_FORECAST],
            fallback_active=fallback,
        )
