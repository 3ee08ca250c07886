"""spotopt's own policy in the replay: the real decision policy (§6, ``decide`` with a pluggable ``Estimator``), the
real episode state machine (§3.5), replica lifecycle and emergency rules (§3.7) and pool selection, fed with the
simulated agent's state. Nothing of the policy is re-implemented here; this module only plays the agent, the
server's transactions and the clock.

Modelled as the server runs them: the auto-switch evaluator every 5 min (§7.2), the replica coordinator every
simulation step (the server's 10 s tick, rounded to the step), the notice transaction of §3.7.2 at the notice. The
agent executes a switch command at once (no poll delay): it launches the target, moves when the target is warm and
stops the old instance ``terminate_wait_seconds`` later (CM-5).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from spotopt.domain.decisions.decision import Action
from spotopt.domain.decisions.estimation import Estimator, PoolHistory, PoolSnapshot, RuleEstimator
from spotopt.domain.decisions.inputs import DecisionInput, SwitchCounters
from spotopt.domain.decisions.recommendation import decide
from spotopt.domain.pricing.buckets import bucket_start
from spotopt.domain.replicas.pool_selection import PoolCandidate
from spotopt.domain.shared.ids import AgentId
from spotopt.domain.shared.pools import Mode
from spotopt.entrypoints.replay.agent_state import AgentState, SpotoptSettings
from spotopt.entrypoints.replay.baselines import BasePolicy
from spotopt.entrypoints.replay.cloud import Cloud, Instance
from spotopt.entrypoints.replay.emergency_desk import EmergencyDesk
from spotopt.entrypoints.replay.fleet import FleetExposure, FleetSignals, PoolNames

EVALUATOR_PERIOD = 300
FRESH = Decimal("1.00")


class SpotoptPolicy(BasePolicy):
    def __init__(
        self,
        name: str,
        zones: Sequence[str],
        *,
        instance_type: str,
        epoch: datetime,
        settings: SpotoptSettings,
        estimator: Estimator | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.settings = settings
        self.policy = settings.policy
        self.thresholds = settings.thresholds or settings.policy.default_thresholds
        self.estimator: Estimator = estimator or RuleEstimator.for_policy(settings.policy)
        self.names = PoolNames.of(instance_type, zones, one_region=settings.one_region)
        self.epoch = epoch
        self.agent = AgentState()
        self.fleet = FleetSignals()
        self.emergency = EmergencyDesk(self)
        self.switch: Instance | None = None
        self.retiring: list[tuple[Instance, int]] = []
        self.decisions: Counter[str] = Counter()
        self._fleet_notices: dict[int, list[str]] = {}
        self.exposure: FleetExposure | None = None

    @property
    def risk_threshold(self) -> Decimal:
        return self.thresholds.risk_threshold

    # --- what the server knows -------------------------------------------------------------------------------
    def at(self, cloud: Cloud) -> datetime:
        return self.epoch + timedelta(seconds=cloud.now)

    def snapshots(self, cloud: Cloud, now: datetime) -> tuple[PoolSnapshot, ...]:
        """§6.2 candidate pools: capacity as a launch attempt would show it, the snapshot price, fleet statistics,
        and the §6.9 history a model engine reads (the rule estimator ignores it): the price of the current bucket,
        the on-demand price, and the primary's age in its own pool (candidate pools score age 0).
        """
        primary = self.agent.primary
        age_zone = primary.zone if primary is not None else None
        age = (cloud.now - primary.launched_at) / 3600 if primary is not None else None
        ondemand = cloud.market.ondemand_price
        out: list[PoolSnapshot] = []
        for z in self.names.zones:
            pool_id = self.names.pool_id(z)
            price = cloud.market.zone(z).spot_price
            stats = self.fleet.stats(pool_id, now)
            if self.exposure is not None:
                stats = dataclasses.replace(stats, exposure_hours_7d=self.exposure.hours_7d(z, cloud.now))
            history = PoolHistory(
                measured={bucket_start(now): price},
                ondemand_price=ondemand,
                instance_age_hours=age if z == age_zone else None,
            )
            out.append(
                PoolSnapshot(
                    pool_id=pool_id,
                    instance_type=self.names.instance_type,
                    region=self.names.region,
                    az=self.names.az(z),
                    available=cloud.obtainable(z),
                    price=price,
                    price_observed_at=now,
                    price_confidence=FRESH,
                    stats=stats,
                    history=history,
                )
            )
        return tuple(out)

    def pool_candidates(self, cloud: Cloud, now: datetime) -> list[PoolCandidate]:
        """§3.7.1 / U1 candidates; risk from the engine's estimator (EP-3), blocklist per DP-7."""
        pools = self.snapshots(cloud, now)
        estimates = self.estimator.estimate(pools, now)
        return [
            PoolCandidate(
                pool_id=p.pool_id,
                az=p.az,
                available=p.available,
                price=p.price,
                risk=estimates[p.pool_id].risk,
                blocklisted=p.is_blocklisted(self.policy, now),
            )
            for p in pools
        ]

    # --- placement ---------------------------------------------------------------------------------------------
    def place(self, cloud: Cloud, instance: Instance, now: datetime, *, failover: bool) -> None:
        """The instance carries the workload from now: the agent snapshot follows it (AG-4)."""
        old = self.agent.primary
        if old is not None and old is not instance and old.running and old.noticed_at is None:
            # A replaced primary that AWS will not stop is stopped by the agent after the wait (CM-5).
            self.retiring.append((old, cloud.now + self.settings.terminate_wait_seconds))
        cloud.serve(instance)
        spot = instance.zone is not None
        self.agent.mode = Mode.SPOT if spot else Mode.ONDEMAND
        self.agent.pool_id = self.names.pool_id(instance.zone) if instance.zone is not None else None
        self.agent.placement_since = now
        self.agent.primary = instance
        if failover:
            self.agent.last_failover_at = now
        self.emergency.primary_moved(cloud, now)

    def start(self, cloud: Cloud) -> None:
        now = self.at(cloud)
        if self.settings.fleet_view:
            self._fleet_notices = fleet_notice_times(cloud, self.names.zones)
            self.exposure = FleetExposure(cloud.market)
        pool = self.emergency.select_pool(cloud, now, primary_pool_id=None)
        zone = self.names.zone_of(pool.pool_id) if pool is not None else None
        instance = cloud.launch(zone, warm=True)
        if instance is not None:
            self.place(cloud, instance, now, failover=False)

    # --- cloud events ------------------------------------------------------------------------------------------
    def on_rebalance(self, cloud: Cloud, instance: Instance) -> None:
        now = self.at(cloud)
        if instance.zone is not None:
            self.fleet.rebalance(self.names.pool_id(instance.zone), instance.instance_id, now)
        if instance is self.agent.primary:
            self.emergency.rebalance(cloud, now)

    def on_notice(self, cloud: Cloud, instance: Instance, deadline: int) -> None:
        now = self.at(cloud)
        if instance.zone is not None:
            self.fleet.notice(self.names.pool_id(instance.zone), instance.instance_id, now)
        if instance is self.agent.primary:
            self.emergency.notice(cloud, now, self.epoch + timedelta(seconds=deadline))
        else:
            self._lost_other(cloud, instance, now)

    def on_preempted(self, cloud: Cloud, instance: Instance) -> None:
        now = self.at(cloud)
        if instance is self.agent.primary:
            if instance.noticed_at is None:  # notices off: the server hears of it from the agent at once
                if instance.zone is not None:
                    self.fleet.notice(self.names.pool_id(instance.zone), instance.instance_id, now)
                self.emergency.notice(cloud, now, now)
            self.emergency.primary_gone(instance)
        else:
            self._lost_other(cloud, instance, now)

    def on_ready(self, cloud: Cloud, instance: Instance) -> None:
        now = self.at(cloud)
        if instance is self.switch:
            self._switch_done(cloud, instance, now)
        else:
            self.emergency.instance_ready(cloud, instance, now)

    def on_step(self, cloud: Cloud) -> None:
        for zone in self._fleet_notices.get(cloud.now, ()):
            pool_id = self.names.pool_id(zone)
            self.fleet.notice(pool_id, f"fleet:{pool_id}:{cloud.now}", self.at(cloud))
        for instance, end in list(self.retiring):
            if cloud.now >= end:
                cloud.terminate(instance)
                self.retiring.remove((instance, end))
        if self.emergency.busy or self.settings.precaution.enabled:
            self.emergency.coordinate(cloud, self.at(cloud))
        if cloud.now % EVALUATOR_PERIOD == 0 and self.agent.primary is not None:
            self._evaluate(cloud, self.at(cloud))

    def _lost_other(self, cloud: Cloud, instance: Instance, now: datetime) -> None:
        if instance is self.switch:  # the switch target is going down before it could take over: K8
            cloud.terminate(instance)
            self.switch = None
            self.agent.last_switch_finished_at = now
        else:
            self.emergency.other_instance_lost(cloud, instance, now)

    # --- the auto-switch evaluator (§7.2) ----------------------------------------------------------------------
    def decision_input(self, cloud: Cloud, now: datetime) -> DecisionInput:
        a = self.agent
        moves = [t for t in (a.last_switch_finished_at, a.last_failover_at) if t is not None]
        return DecisionInput(
            agent_id=AgentId("replay-agent"),
            thresholds=self.thresholds,
            terminate_wait_seconds=self.settings.terminate_wait_seconds,
            mode=a.mode,
            pool_id=a.pool_id,
            instance_type=self.names.instance_type,
            region=self.names.region,
            az=self.names.az(a.primary.zone) if a.primary is not None and a.primary.zone is not None else None,
            placement_since=a.placement_since,
            baseline=cloud.market.ondemand_price,
            pools=self.snapshots(cloud, now),
            counters=SwitchCounters.from_history(a.deliveries, max(moves, default=None), now),
            has_primary=a.primary is not None,
            episode_open=self.emergency.episode_open,
            switch_in_flight=self.switch is not None,
        )

    def _evaluate(self, cloud: Cloud, now: datetime) -> None:
        inp = self.decision_input(cloud, now)
        decision = decide(inp, self.estimator.estimate(inp.pools, now), self.policy, now)
        self.decisions[f"{decision.action}:{decision.reason_code}"] += 1
        if not decision.allowed or decision.action is Action.STAY:
            return
        target = decision.target_pool_id
        zone = self.names.zone_of(target) if decision.target_mode is Mode.SPOT and target is not None else None
        self.agent.deliveries = [t for t in self.agent.deliveries if now - t < timedelta(days=7)] + [now]
        self.switch = cloud.launch(zone)
        if self.switch is None:  # no capacity after all: the command fails (K8) and the cooldown starts
            self.agent.last_switch_finished_at = now

    def _switch_done(self, cloud: Cloud, instance: Instance, now: datetime) -> None:
        """The switch's target is warm: move, stop the old instance after the wait (CM-5); S-4 for an episode."""
        self.switch = None
        self.agent.last_switch_finished_at = now
        self.place(cloud, instance, now, failover=False)
        self.emergency.switched(cloud, now, instance)


def fleet_notice_times(cloud: Cloud, zones: Sequence[str]) -> dict[int, list[str]]:
    """Notice time → zones: one fleet instance per zone gets a notice ahead of each of the zone's capacity drops."""
    market, lead = cloud.market, cloud.settings.notice_seconds
    times: dict[int, list[str]] = {}
    for zone in zones:
        flags = market.zone(zone).obtainable
        for tick in range(1, len(flags)):
            if flags[tick - 1] and not flags[tick]:
                at = max(0, tick * market.gap_seconds - lead)
                times.setdefault(at - at % cloud.settings.step, []).append(zone)
    return times
