"""The decision policy (§6.5): recommend an action, then finish the decision with its figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from spotopt.domain.decisions.candidates import Candidate, RankedPool, evaluate_pools, top_candidates
from spotopt.domain.decisions.decision import Action, Decision
from spotopt.domain.decisions.estimation import PoolEstimate, PoolSnapshot
from spotopt.domain.decisions.guards import GuardHold, check_guards
from spotopt.domain.decisions.inputs import REASON_TEXT, DecisionInput, Motive, ReasonCode
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.money import round_price
from spotopt.domain.shared.pools import Mode
from spotopt.domain.shared.time import utc_iso

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class _Recommendation:
    action: Action
    motive: Motive
    reason: ReasonCode
    best_pool_id: str | None = None
    improvement: Decimal | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    inp: DecisionInput
    policy: PolicyDocument
    now: datetime
    estimates: Mapping[str, PoolEstimate]
    current_pool: PoolSnapshot | None
    current_price: Decimal | None
    current_estimate: PoolEstimate | None
    candidates: tuple[Candidate, ...]
    ranked: tuple[RankedPool, ...]

    @classmethod
    def build(
        cls, inp: DecisionInput, estimates: Mapping[str, PoolEstimate], policy: PolicyDocument, now: datetime
    ) -> _Context:
        spot_pool = inp.pool_id if inp.mode is Mode.SPOT else None
        current_pool = inp.pool(spot_pool)
        candidates, ranked = evaluate_pools(inp, estimates, policy, now)
        return cls(
            inp=inp,
            policy=policy,
            now=now,
            estimates=estimates,
            current_pool=current_pool,
            current_price=current_pool.usable_price(policy, now) if current_pool else None,
            current_estimate=estimates.get(spot_pool) if spot_pool else None,
            candidates=candidates,
            ranked=ranked,
        )

    @property
    def best(self) -> RankedPool | None:
        return self.ranked[0] if self.ranked else None

    @property
    def current_at_risk(self) -> bool:
        """§6.5 step 2: the current pool is blocklisted or its risk exceeds the agent's threshold."""
        blocklisted = self.current_pool is not None and self.current_pool.is_blocklisted(self.policy, self.now)
        est = self.current_estimate
        return blocklisted or (est is not None and est.risk > self.inp.thresholds.risk_threshold)

    @property
    def current_forecast(self) -> Decimal | None:
        """The current pool's forecast, only while its price is usable (PR-24); no change without an estimate."""
        if self.current_price is None:
            return None
        est = self.current_estimate
        return est.forecast_price if est is not None and est.forecast_price is not None else self.current_price

    def forecast_of(self, pool_id: str) -> Decimal:
        return next(r.forecast for r in self.ranked if r.pool_id == pool_id)


_STEP1: tuple[tuple[ReasonCode, Callable[[DecisionInput], bool]], ...] = (
    (ReasonCode.AGENT_DELETED, lambda i: i.deleted),
    (ReasonCode.AGENT_DISABLED, lambda i: not i.enabled),
    (ReasonCode.EMERGENCY_IN_PROGRESS, lambda i: i.episode_open),
    (ReasonCode.SWITCH_IN_FLIGHT, lambda i: i.switch_in_flight),
    (ReasonCode.UNKNOWN_PLACEMENT, lambda i: not i.placement_known),
)


def decide(
    inp: DecisionInput, estimates: Mapping[str, PoolEstimate], policy: PolicyDocument, now: datetime
) -> Decision:
    """§6.5-§6.7: recommendation, then execution guards; deterministic for given inputs (DP-4)."""
    ctx = _Context.build(inp, estimates, policy, now)
    return _finish(ctx, _recommend(ctx))


def _recommend(ctx: _Context) -> _Recommendation:
    """§6.5: the first matching step decides."""
    inp = ctx.inp
    blocked = next((reason for reason, applies in _STEP1 if applies(inp)), None)
    if blocked is not None:
        return _Recommendation(Action.STAY, Motive.NONE, blocked)
    if inp.mode is Mode.SPOT and ctx.current_at_risk:
        return _risk_exit(ctx)
    insufficient = _Recommendation(Action.STAY, Motive.NONE, ReasonCode.INSUFFICIENT_PRICE_DATA)
    if inp.baseline is None:
        return insufficient
    if inp.mode is Mode.ONDEMAND:
        return _return_to_spot(ctx, inp.baseline)
    current = ctx.current_forecast
    return insufficient if current is None else _cheaper_pool(ctx, current)


def _risk_exit(ctx: _Context) -> _Recommendation:
    """§6.5 step 2: leave a risky pool for the best eligible pool, else for on-demand; prices never block it."""
    best = ctx.best
    if best is None:
        return _Recommendation(Action.SWITCH_TO_ONDEMAND, Motive.RISK, ReasonCode.RISK_EXIT_TO_ONDEMAND)
    return _Recommendation(Action.SWITCH_POOL, Motive.RISK, ReasonCode.RISK_EXIT_TO_POOL, best.pool_id)


def _cheaper_pool(ctx: _Context, current_forecast: Decimal) -> _Recommendation:
    """§6.5 step 4: move when the best pool's forecast improves on the current one by ``min_savings_percent``."""
    best = ctx.best
    if best is None:
        return _Recommendation(Action.STAY, Motive.NONE, ReasonCode.NO_BETTER_POOL)
    improvement = (current_forecast - best.forecast) / current_forecast * 100
    if improvement >= ctx.inp.thresholds.min_savings_percent:
        return _Recommendation(Action.SWITCH_POOL, Motive.SAVINGS, ReasonCode.CHEAPER_POOL, best.pool_id, improvement)
    return _Recommendation(Action.STAY, Motive.NONE, ReasonCode.BELOW_MIN_SAVINGS, best.pool_id, improvement)


def _return_to_spot(ctx: _Context, baseline: Decimal) -> _Recommendation:
    """§6.5 step 5: from on-demand back to the best eligible spot pool when it saves enough."""
    best = ctx.best
    if best is None:
        return _Recommendation(Action.STAY, Motive.NONE, ReasonCode.NO_ELIGIBLE_SPOT_POOL)
    saving = (baseline - best.forecast) / baseline * 100
    if saving >= ctx.inp.thresholds.min_savings_percent:
        return _Recommendation(
            Action.SWITCH_TO_SPOT, Motive.RETURN_TO_SPOT, ReasonCode.RETURN_TO_SPOT, best.pool_id, saving
        )
    return _Recommendation(Action.STAY, Motive.NONE, ReasonCode.BELOW_MIN_SAVINGS, best.pool_id, saving)


def _finish(ctx: _Context, rec: _Recommendation) -> Decision:
    """§6.3 outputs and §6.6 guards: a held move keeps its action and target; every stay has ``allowed=false``."""
    inp, move = ctx.inp, rec.action is not Action.STAY
    target_mode, target_pool = _target(inp, rec)
    current = _effective_price(ctx, inp.mode)
    forecast = _target_forecast(ctx, rec, target_pool)
    hourly = _difference(current, forecast) if move else _ZERO
    hold = _hold(ctx, rec, hourly, current) if move else None
    allowed = move and hold is None
    risk_versions, price_versions, fallback = _provenance(ctx)
    return Decision(
        agent_id=inp.agent_id,
        evaluated_at=ctx.now,
        trigger=inp.trigger,
        action=rec.action,
        target_mode=target_mode,
        target_pool_id=target_pool,
        motive=rec.motive,
        expected_hourly_savings=None if hourly is None else round_price(hourly),
        expected_savings_vs_ondemand=_rounded(_difference(inp.baseline, forecast)),
        risk=_risk(ctx, target_mode, target_pool),
        confidence=_confidence(ctx, rec, target_pool),
        allowed=allowed,
        reason_code=hold.reason if hold is not None else rec.reason,
        reason=_reason_text(ctx, rec, hold),
        engine_kind=ctx.policy.engine_kind,
        policy_version=ctx.policy.policy_version,
        risk_model_version=risk_versions,
        price_model_version=price_versions,
        fallback_used=fallback,
        flags=("placement_mismatch",) if inp.placement_mismatch else (),
        candidates=top_candidates(ctx.candidates, ctx.ranked),
        will_auto_execute=inp.auto_switch_enabled and inp.enabled and allowed,
        retry_after=hold.retry_after if hold is not None else None,
    )


def _hold(ctx: _Context, rec: _Recommendation, hourly: Decimal | None, current: Decimal | None) -> GuardHold | None:
    return check_guards(
        rec.motive, ctx.inp, expected_hourly_savings=hourly, current_price=current, policy=ctx.policy, now=ctx.now
    )


def _target(inp: DecisionInput, rec: _Recommendation) -> tuple[Mode, str | None]:
    if rec.action is Action.STAY:
        mode = inp.mode or Mode.UNKNOWN
        return mode, inp.pool_id if mode is Mode.SPOT else None
    if rec.action is Action.SWITCH_TO_ONDEMAND:
        return Mode.ONDEMAND, None
    return Mode.SPOT, rec.best_pool_id


def _effective_price(ctx: _Context, mode: Mode | None) -> Decimal | None:
    """What the agent pays per hour now: the usable spot price, or the baseline on on-demand."""
    if mode is Mode.SPOT:
        return ctx.current_price
    return ctx.inp.baseline if mode is Mode.ONDEMAND else None


def _target_forecast(ctx: _Context, rec: _Recommendation, target_pool: str | None) -> Decimal | None:
    if rec.action is Action.STAY:
        return ctx.current_forecast if ctx.inp.mode is Mode.SPOT else _effective_price(ctx, ctx.inp.mode)
    if target_pool is None:
        return ctx.inp.baseline
    return ctx.forecast_of(target_pool)


def _difference(minuend: Decimal | None, subtrahend: Decimal | None) -> Decimal | None:
    # A.7: a figure whose price is unknown stays null rather than guessed.
    return None if minuend is None or subtrahend is None else minuend - subtrahend


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_price(value)


def _risk(ctx: _Context, target_mode: Mode, target_pool: str | None) -> Decimal:
    """§6.3: the target's risk (the current pool's for a stay); 0 for on-demand or an unscored pool."""
    est = ctx.estimates.get(target_pool) if target_mode is Mode.SPOT and target_pool else None
    return est.risk if est is not None else _ZERO


def _confidence(ctx: _Context, rec: _Recommendation, target_pool: str | None) -> Decimal:
    """§6.3: min(current price, target price, estimator) confidence; on-demand prices count 1 when known."""
    ondemand = _ONE if ctx.inp.baseline is not None else _ZERO
    parts: list[Decimal] = []
    if ctx.inp.mode is Mode.SPOT:
        parts.append(_price_confidence(ctx, ctx.inp.pool_id))
    elif ctx.inp.mode is Mode.ONDEMAND:
        parts.append(ondemand)
    if rec.action is Action.STAY and ctx.inp.mode is Mode.SPOT:
        parts.append(_estimator_confidence(ctx, ctx.inp.pool_id))
    elif rec.action is not Action.STAY and target_pool is not None:
        parts += [_price_confidence(ctx, target_pool), _estimator_confidence(ctx, target_pool)]
    elif rec.action is not Action.STAY:
        parts.append(ondemand)
    return min(parts, default=_ZERO)


def _price_confidence(ctx: _Context, pool_id: str | None) -> Decimal:
    pool = ctx.inp.pool(pool_id)
    if pool is None or pool.usable_price(ctx.policy, ctx.now) is None or pool.price_confidence is None:
        return _ZERO
    return pool.price_confidence


def _estimator_confidence(ctx: _Context, pool_id: str | None) -> Decimal:
    est = ctx.estimates.get(pool_id) if pool_id else None
    return est.confidence if est is not None else _ZERO


def _provenance(ctx: _Context) -> tuple[str | None, str | None, bool]:
    """Model versions behind the decision, sorted so the result does not depend on pool order (DP-4)."""
    used = [ctx.estimates[p.pool_id] for p in ctx.inp.pools if p.pool_id in ctx.estimates]
    risk = ",".join(sorted({e.version for e in used})) or None
    price = ",".join(sorted({e.price_model_version for e in used})) or None
    return risk, price, any(e.fallback_used for e in used)


def _reason_text(ctx: _Context, rec: _Recommendation, hold: GuardHold | None) -> str:
    t = ctx.inp.thresholds
    values = {
        "target": rec.best_pool_id or "on-demand",
        "improvement": "n/a" if rec.improvement is None else str(rec.improvement.quantize(Decimal("0.1"))),
        "minimum": t.min_savings_percent,
        "per_day": t.max_switches_per_day,
        "per_week": t.max_switches_per_week,
        "cooldown": t.cooldown_minutes,
        "min_hours": t.min_pool_duration_hours,
        "until": f" until {utc_iso(hold.retry_after)}" if hold is not None and hold.retry_after is not None else "",
    }
    text = REASON_TEXT[rec.reason].format(**values)
    return text if hold is None else f"{text} Held back: {REASON_TEXT[hold.reason].format(**values)}"
