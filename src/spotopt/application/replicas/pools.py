"""What replica placement knows about pools: availability (PR-33), price (PR-24), fleet risk (§6.8, EP-3, EP-8).

An application service shared by the replica use cases (house style §7). It only reads.
"""

from __future__ import annotations

from datetime import datetime

from spotopt.application.ports.decisions import PolicyStore
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.decisions.estimation import PoolStats, RuleEstimator
from spotopt.domain.pricing.price_in_effect import decision_price
from spotopt.domain.replicas.pool_selection import PoolCandidate
from spotopt.domain.shared.errors import DomainError, InvalidValueError, UnusableTargetError
from spotopt.domain.shared.pools import PoolId

POOL_MISMATCH = "pool_mismatch"
POOL_UNAVAILABLE = "pool_unavailable"


class ReplicaPools:
    """- Candidates: every catalogue pool of the primary's type and region with availability (PR-33), decision
      price in effect (PR-24; unknown stays None), rule-estimator risk from fleet signal statistics (§6.8,
      EP-3, EP-8) and the 24 h blocklist (DP-7).
    - Targets named by a request must be of the primary's type and region and not the primary's pool (RP-1).
    - EP-3: risk never waits for a model: the rule estimator with the active policy's weights is always at hand.
    """

    def __init__(self, uow: UnitOfWork, policies: PolicyStore) -> None:
        self._uow = uow
        self._policies = policies

    async def candidates(self, instance_type: str | None, region: str | None, now: datetime) -> list[PoolCandidate]:
        if not instance_type or not region:
            return []
        policy = await self._policies.active()
        rules = RuleEstimator.for_policy(policy)
        pools = await self._uow.pricing.list_pools(instance_type, region)
        ids = [p.pool_id for p in pools]
        buckets = await self._uow.buckets.latest(ids, now)
        stats = await self._uow.signals.fleet_stats(ids, now)
        found: list[PoolCandidate] = []
        for pool in pools:
            pool_stats = stats.get(pool.pool_id, PoolStats())
            price = decision_price(buckets.values(), pool.pool_id, now)
            try:
                found.append(
                    PoolCandidate(
                        pool_id=pool.pool_id,
                        az=pool.az,
                        available=pool.is_available(now),
                        price=price.price if price is not None else None,
                        risk=rules.risk(pool_stats),
                        blocklisted=policy.is_blocklisted(pool_stats.last_notice_at, now),
                    )
                )
            except DomainError:  # a malformed catalogue row never blocks an emergency
                continue
        return found

    async def target(self, agent: Agent, pool_id: str, now: datetime, *, require_available: bool) -> PoolCandidate:
        """R1: a requested pool; 422 ``pool_mismatch`` (RP-1) or ``pool_unavailable`` (PR-33)."""
        try:
            parsed = PoolId.parse(pool_id)
        except InvalidValueError as exc:
            raise UnusableTargetError("The pool id is malformed", code=POOL_MISMATCH, pool_id=pool_id) from exc
        if parsed.instance_type != agent.instance_type or parsed.region != agent.region or str(parsed) == agent.pool_id:
            raise UnusableTargetError(
                "The pool must be of the primary's instance type and region and not the primary's pool",
                code=POOL_MISMATCH,
                pool_id=pool_id,
                primary_pool_id=agent.pool_id,
            )
        known = {c.pool_id: c for c in await self.candidates(agent.instance_type, agent.region, now)}
        candidate = known.get(str(parsed))
        if candidate is not None and (candidate.available or not require_available):
            return candidate
        if require_available:
            raise UnusableTargetError("The pool is not available", code=POOL_UNAVAILABLE, pool_id=pool_id)
        # The agent launched an instance there itself: the pool exists even if the catalogue never saw it.
        risk = RuleEstimator.for_policy(await self._policies.active()).risk(PoolStats())
        return PoolCandidate(
            pool_id=str(parsed), az=parsed.az, available=True, price=None, risk=risk, blocklisted=False
        )
