"""The facts of one decision (domain §6.2), read from server state only (DP-5), and the DP-3 engine fallback.

An application service (house style §7: use cases never call each other). It runs inside the caller's
transaction and never writes.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.application.ports.decisions import DecisionEngine
from spotopt.application.ports.uow import UnitOfWork
from spotopt.domain.agents.agent import Agent
from spotopt.domain.commands.queue import LIVE_COMMAND
from spotopt.domain.commands.values import CommandType
from spotopt.domain.decisions.decision import Decision
from spotopt.domain.decisions.estimation import PoolSnapshot, PoolStats, RuleEstimator
from spotopt.domain.decisions.features import history_bucket_starts, history_from_buckets
from spotopt.domain.decisions.inputs import DecisionInput, SwitchCounters, Trigger
from spotopt.domain.decisions.policy import PolicyDocument
from spotopt.domain.decisions.recommendation import decide
from spotopt.domain.pricing.buckets import BUCKET_WIDTH, CleanPriceBucket
from spotopt.domain.pricing.market import SpotPool
from spotopt.domain.pricing.price_in_effect import ondemand_in_effect
from spotopt.domain.shared.pools import Mode, PoolId

COUNTER_WINDOW = timedelta(days=7)


class DecisionInputs:
    """Assembles ``DecisionInput`` for an agent the caller has read (and, when it acts on it, locked).

    - Placement, flags, thresholds and the CM-5 effective wait come from the agent snapshot.
    - Candidates: every catalogue pool of the agent's type and region (availability PR-33), priced from its
      latest clean bucket (PR-23; the policy judges freshness, PR-24) and with fleet statistics (EP-8). The
      current pool is always included, unavailable when the catalogue does not list it.
    - Baseline: the on-demand catalogue price (PR-26); unknown stays unknown (PR-31).
    - Counters (§6.2): non-emergency switch deliveries of 7 days; the last move = the later of the last finished
      switch and the last failover.
    - With ``features`` (engines that score §6.9 features): each pool's PR-35 price history, the on-demand price,
      and the primary's age in its own pool; a few more reads, so the rule engine does without.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def for_agent(
        self,
        agent: Agent,
        *,
        trigger: Trigger,
        now: datetime,
        placement_mismatch: bool = False,
        features: bool = False,
    ) -> DecisionInput:
        commands = await self._uow.commands.list_for_agent(agent.agent_id)
        in_flight = any(c.type is CommandType.SWITCH and c.status in LIVE_COMMAND for c in commands)
        episodes = await self._uow.episodes.find_open(agent.agent_id)
        baseline = await self._baseline(agent, now)
        pools = await self.pools(agent, now)
        if features:
            pools = await self._with_history(agent, pools, baseline, now)
        return DecisionInput(
            agent_id=agent.agent_id, thresholds=agent.thresholds, terminate_wait_seconds=agent.effective_terminate_wait,
            mode=agent.mode, pool_id=agent.pool_id, instance_type=agent.instance_type, region=agent.region,
            az=agent.az, placement_since=agent.placement_since, baseline=baseline,
            pools=pools, counters=await self._counters(agent, now),
            has_primary=agent.primary_instance_id is not None, deleted=agent.is_deleted, enabled=agent.enabled,
            auto_switch_enabled=agent.auto_switch_enabled, auto_terminate_enabled=agent.auto_terminate_enabled,
            episode_open=bool(episodes), switch_in_flight=in_flight, placement_mismatch=placement_mismatch,
            trigger=trigger,
        )  # fmt: skip

    async def pools(self, agent: Agent, now: datetime) -> tuple[PoolSnapshot, ...]:
        """Candidate pools of the agent's type and region at ``now`` (one read per kind, never per pool)."""
        if not agent.instance_type or not agent.region:
            return ()
        catalogue = {p.pool_id: p for p in await self._uow.pricing.list_pools(agent.instance_type, agent.region)}
        ids = list(catalogue)
        if agent.mode is Mode.SPOT and agent.pool_id and agent.pool_id not in catalogue:
            ids.append(agent.pool_id)
        buckets = await self._uow.buckets.latest(ids, now)
        stats = await self._uow.signals.fleet_stats(ids, now)
        return tuple(
            _snapshot(pool_id, catalogue.get(pool_id), buckets.get(pool_id), stats.get(pool_id, PoolStats()), now)
            for pool_id in ids
        )

    async def _with_history(
        self, agent: Agent, pools: tuple[PoolSnapshot, ...], ondemand: Decimal | None, now: datetime
    ) -> tuple[PoolSnapshot, ...]:
        """§6.9 inputs read by timestamp (PR-36): one bucket window and the exact 24 h comparison buckets."""
        ids = [p.pool_id for p in pools]
        if not ids:
            return pools
        start, newest, exact = history_bucket_starts(now)
        buckets: dict[str, list[CleanPriceBucket]] = defaultdict(list)
        for bucket in await self._uow.buckets.in_window(ids, start, newest + BUCKET_WIDTH):
            buckets[bucket.pool_id].append(bucket)
        for bucket in (await self._uow.buckets.get_many([(p, s) for p in ids for s in exact])).values():
            buckets[bucket.pool_id].append(bucket)
        age = await self._instance_age_hours(agent, now)
        own_pool = agent.pool_id if agent.mode is Mode.SPOT else None
        return tuple(
            dataclasses.replace(
                p,
                history=history_from_buckets(
                    buckets[p.pool_id],
                    ondemand_price=ondemand,
                    instance_age_hours=age if p.pool_id == own_pool else None,
                ),
            )
            for p in pools
        )

    async def _instance_age_hours(self, agent: Agent, now: datetime) -> float | None:
        """§6.9 ``instance_age_hours``: hours since the primary instance was first tracked."""
        if agent.primary_instance_id is None:
            return None
        instance = await self._uow.instances.get(agent.client_id, agent.primary_instance_id)
        if instance is None:
            return None
        return max(0.0, (now - instance.first_seen_at).total_seconds() / 3600)

    async def _baseline(self, agent: Agent, now: datetime) -> Decimal | None:
        if not agent.instance_type or not agent.region:
            return None
        ondemand = ondemand_in_effect(await self._uow.pricing.get_ondemand(agent.instance_type, agent.region), now)
        return ondemand.price if ondemand is not None else None

    async def _counters(self, agent: Agent, now: datetime) -> SwitchCounters:
        activity = await self._uow.commands.switch_activity(agent.agent_id, now - COUNTER_WINDOW)
        moves = [t for t in (activity.last_finished_at, agent.last_failover_at) if t is not None]
        return SwitchCounters.from_history(activity.delivered_at, max(moves, default=None), now)


def _snapshot(
    pool_id: str, pool: SpotPool | None, bucket: CleanPriceBucket | None, stats: PoolStats, now: datetime
) -> PoolSnapshot:
    parsed = PoolId.parse(pool_id)
    return PoolSnapshot(
        pool_id=pool_id,
        instance_type=pool.instance_type if pool is not None else parsed.instance_type,
        region=pool.region if pool is not None else parsed.region,
        az=pool.az if pool is not None else parsed.az,
        available=pool is not None and pool.is_available(now),
        price=bucket.spot_price if bucket is not None else None,
        price_observed_at=bucket.bucket_start if bucket is not None else None,
        price_confidence=bucket.confidence if bucket is not None else None,
        stats=stats,
    )


def rules_decision(inp: DecisionInput, policy: PolicyDocument, now: datetime, *, fallback: bool = False) -> Decision:
    """DP-1 with the rule estimator (§6.8); ``fallback`` marks every estimate as a DP-3 fallback."""
    estimates = RuleEstimator.for_policy(policy).estimate(inp.pools, now)
    if fallback:
        estimates = {k: dataclasses.replace(v, fallback_used=True) for k, v in estimates.items()}
    return decide(inp, estimates, policy, now)


async def decide_with_fallback(
    engine: DecisionEngine, inp: DecisionInput, policy: PolicyDocument, now: datetime
) -> Decision:
    """DP-3: a failing engine never fails the caller; the decision falls back to the rule estimator."""
    try:
        return await engine.decide(inp, policy, now)
    except Exception:  # any engine failure means "score with rules", never an error answer
        return rules_decision(inp, policy, now, fallback=True)
