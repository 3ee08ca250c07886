"""Candidate eligibility and ranking (§6.4, §6.7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from spotopt.domain.decisions.estimation import PoolEstimate, PoolSnapshot
from spotopt.domain.decisions.inputs import ALL_CONDITIONS, DecisionInput, Verdict
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.shared.pools import Mode

MAX_CANDIDATES = 5


def eligibility_verdict(
    pool: PoolSnapshot,
    inp: DecisionInput,
    risk: Decimal | None,
    *,
    policy: PolicyDocument,
    now: datetime,
    checked: frozenset[Verdict] = ALL_CONDITIONS,
) -> Verdict:
    """DP-7: the first failing condition among ``checked``, or ``eligible``; an unscored pool fails condition 6."""
    conditions = (
        (Verdict.OTHER_TYPE_OR_REGION, pool.instance_type != inp.instance_type or pool.region != inp.region),
        (Verdict.UNAVAILABLE, not pool.available),
        (Verdict.CURRENT_POOL, inp.mode is Mode.SPOT and pool.pool_id == inp.pool_id),
        (Verdict.UNPRICED, pool.usable_price(policy, now) is None),
        (Verdict.RECENT_INTERRUPTION, pool.is_blocklisted(policy, now)),
        (Verdict.RISK_ABOVE_THRESHOLD, risk is None or risk > inp.thresholds.risk_threshold),
    )
    return next((v for v, fails in conditions if fails and v in checked), Verdict.ELIGIBLE)


@dataclass(frozen=True, slots=True)
class Candidate:
    """§6.3: an evaluated pool with its DP-7 verdict."""

    pool_id: str
    price: Decimal | None
    forecast_price: Decimal | None
    risk: Decimal | None
    verdict: Verdict

    @property
    def eligible(self) -> bool:
        return self.verdict is Verdict.ELIGIBLE


@dataclass(frozen=True, slots=True)
class RankedPool:
    pool_id: str
    forecast: Decimal
    risk: Decimal
    t7: int


def best_pool(pools: Sequence[RankedPool], tie_tolerance_percent: Decimal) -> RankedPool | None:
    """§6.7: lowest forecast; forecasts within the tolerance tie and go by lower risk, lower T7, pool id."""
    if not pools:
        return None
    ceiling = min(p.forecast for p in pools) * (1 + tie_tolerance_percent / 100)
    return min((p for p in pools if p.forecast <= ceiling), key=lambda p: (p.risk, p.t7, p.pool_id))


def rank_pools(pools: Iterable[RankedPool], tie_tolerance_percent: Decimal) -> list[RankedPool]:
    """§6.7 applied repeatedly: the full ranking, best first (DP-4: independent of input order)."""
    remaining = list(pools)
    ranked: list[RankedPool] = []
    while (best := best_pool(remaining, tie_tolerance_percent)) is not None:
        ranked.append(best)
        remaining.remove(best)
    return ranked


def evaluate_pools(
    inp: DecisionInput, estimates: Mapping[str, PoolEstimate], policy: PolicyDocument, now: datetime
) -> tuple[tuple[Candidate, ...], tuple[RankedPool, ...]]:
    """DP-7 verdict for every pool, and the eligible pools ranked best first (§6.7)."""
    candidates: list[Candidate] = []
    eligible: list[RankedPool] = []
    for pool in inp.pools:
        est = estimates.get(pool.pool_id)
        risk = est.risk if est is not None else None
        forecast = est.forecast_price if est is not None else None
        verdict = eligibility_verdict(pool, inp, risk, policy=policy, now=now)
        candidates.append(Candidate(pool.pool_id, pool.price, forecast, risk, verdict))
        if verdict is Verdict.ELIGIBLE and risk is not None:
            # An eligible pool is priced, so the no-change forecast stands in when the estimator gave none.
            ranking_forecast = forecast or pool.usable_price(policy, now) or Decimal(0)
            eligible.append(RankedPool(pool.pool_id, ranking_forecast, risk, pool.stats.t7))
    return tuple(candidates), tuple(rank_pools(eligible, policy.tie_tolerance_percent))


def top_candidates(candidates: Sequence[Candidate], ranked: Sequence[RankedPool]) -> tuple[Candidate, ...]:
    """§6.3: up to 5 pools; eligible ones in ranking order first, then the others by forecast and pool id."""
    by_id = {c.pool_id: c for c in candidates}
    others = sorted(
        (c for c in candidates if not c.eligible),
        key=lambda c: (c.forecast_price is None, c.forecast_price or Decimal(0), c.pool_id),
    )
    return tuple(([by_id[r.pool_id] for r in ranked] + others)[:MAX_CANDIDATES])
