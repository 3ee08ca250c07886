"""The replica use cases wired over the in-memory fakes, with a priced market around an agent on OLD (us-east-1a)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.application.interruptions.coordinate_replicas import (
    CoordinateReplicas,
    CoordinateReplicasCommand,
    CoordinateReplicasResult,
)
from spotopt.application.interruptions.episode_watch import EpisodeWatch
from spotopt.application.interruptions.handle_interruption_signal import (
    HandleInterruptionSignal,
    HandleInterruptionSignalCommand,
)
from spotopt.application.interruptions.handle_rebalance_recommendation import (
    HandleRebalanceRecommendation,
    HandleRebalanceRecommendationCommand,
)
from spotopt.application.interruptions.handle_termination_imminent import (
    HandleTerminationImminent,
    HandleTerminationImminentCommand,
)
from spotopt.application.interruptions.signal_handling import SignalHandling
from spotopt.application.interruptions.signal_intake import SignalOutcome
from spotopt.application.ledger.ledger_book import LedgerBook
from spotopt.application.replicas.attach_replica_instance import AttachReplicaInstance, AttachReplicaInstanceCommand
from spotopt.application.replicas.create_replica import CreateReplica, CreateReplicaCommand, CreateReplicaResult
from spotopt.application.replicas.effects import ReplicaEffects
from spotopt.application.replicas.failover import Failover
from spotopt.application.replicas.list_replicas import ListReplicas, ListReplicasQuery, ListReplicasResult
from spotopt.application.replicas.pools import ReplicaPools
from spotopt.application.replicas.promote_replica import PromoteReplica, PromoteReplicaCommand
from spotopt.application.replicas.promotion import Promotion, PromotionResult
from spotopt.application.replicas.report_replica_status import (
    ReportReplicaStatus,
    ReportReplicaStatusCommand,
    ReportReplicaStatusResult,
)
from spotopt.application.replicas.report_replica_sync import ReportReplicaSync, ReportReplicaSyncCommand
from spotopt.application.replicas.retire_replica import RetireReplica, RetireReplicaCommand, RetireReplicaResult
from spotopt.application.replicas.standby_upkeep import StandbyUpkeep
from spotopt.application.replicas.supply import PoolHints, ReplicaSupply
from spotopt.domain.agents.agent import Agent
from spotopt.domain.agents.values import InstanceRole
from spotopt.domain.interruptions.episode import InterruptionEpisode, InterruptionSignal
from spotopt.domain.interruptions.values import AttributedRole, SignalKind
from spotopt.domain.pricing.buckets import CleanPriceBucket, DataSource
from spotopt.domain.pricing.market import OnDemandPrice, SpotPool
from spotopt.domain.pricing.sources import SourceType
from spotopt.domain.replicas.replica import Replica
from spotopt.domain.replicas.values import ReplicaStatus, SyncStatus
from spotopt.domain.shared.ids import AgentId, ClientId, InstanceId, new_id
from tests.factories.common import OLD, T0
from tests.factories.world import AgentWorld

POOL_A = "t3.medium.us-east-1a"  # the primary's pool
POOL_B = "t3.medium.us-east-1b"  # cheapest
POOL_C = "t3.medium.us-east-1c"
POOL_D = "t3.medium.us-east-1d"
PRICES = {POOL_A: Decimal("0.0131"), POOL_B: Decimal("0.0100"), POOL_C: Decimal("0.0125"), POOL_D: Decimal("0.0112")}
STANDBY = InstanceId("i-07c1d2e3f4a5b6c7d")
STANDBY_2 = InstanceId("i-0d1e2f3a4b5c6d7e8")
UNKNOWN = InstanceId("i-0aaaaaaaaaaaaaaaa")


def make_bucket(pool_id: str, price: Decimal, start: datetime) -> CleanPriceBucket:
    return CleanPriceBucket(
        pool_id=pool_id,
        instance_type="t3.medium",
        region="us-east-1",
        az=pool_id.rpartition(".")[2],
        bucket_start=start,
        spot_price=price,
        source_type=SourceType.PRIMARY,
        confidence=Decimal("1.00"),
        data_source=DataSource.MEASURED,
        created_at=start,
        updated_at=start,
    )


def make_notice_signal(
    pool_id: str, received_at: datetime, kind: SignalKind = SignalKind.TERMINATION
) -> InterruptionSignal:
    """A fleet signal of another client (EP-8 counts it, C-6 never shows whose)."""
    return InterruptionSignal(
        signal_id=new_id(),
        client_id=ClientId("someone-else"),
        agent_id=AgentId("agent-elsewhere"),
        kind=kind,
        received_at=received_at,
        attributed_role=AttributedRole.PRIMARY,
        instance_id=InstanceId("i-00000000000000001"),
        pool_id=pool_id,
    )


@dataclass
class ReplicaWorld(AgentWorld):
    """``AgentWorld`` plus the replica services and use cases (no container)."""

    @property
    def supply(self) -> ReplicaSupply:
        return ReplicaSupply(self.uow, ReplicaPools(self.uow, BuiltinPolicyStore()), LedgerBook(self.uow))

    @property
    def promotion(self) -> Promotion:
        return Promotion(self.uow, self.placement, self.timings)

    @property
    def failover(self) -> Failover:
        return Failover(self.uow, self.promotion)

    @property
    def effects(self) -> ReplicaEffects:
        return ReplicaEffects(self.uow, self.placement, self.supply, self.failover)

    @property
    def signals(self) -> SignalHandling:
        return SignalHandling(self.uow, self.clock, self.placement, self.supply, self.failover)

    async def market(self, prices: dict[str, Decimal] | None = None, *, seen: datetime | None = None) -> None:
        """Catalogue pools with a fresh bucket each and the on-demand price."""
        now = self.clock.now()
        start = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0) - timedelta(minutes=5)
        for pool_id, price in (PRICES if prices is None else prices).items():
            az = pool_id.rpartition(".")[2]
            await self.uow.pricing.add_pool(
                SpotPool(pool_id, "t3.medium", "us-east-1", az, T0 - timedelta(days=9), seen or now)
            )
            self.uow.buckets.put(make_bucket(pool_id, price, start))
        await self.uow.pricing.add_ondemand(OnDemandPrice("t3.medium", "us-east-1", Decimal("0.0416"), "catalogue", T0))
        await self.uow.commit_setup()

    async def agent(self, *, manual: bool = False, **overrides: Any) -> Agent:
        """A registered agent on OLD (us-east-1a) in a priced market; ``manual`` = manual-replica mode."""
        await self.market()
        agent = await self.registered(**overrides)
        if manual:
            agent.auto_switch_enabled, agent.manual_replica_enabled = False, True
        return agent

    # --- use cases: every call its own scope (uncommitted work is discarded when it ends) ------------------------

    async def create(self, agent: Agent, **overrides: Any) -> CreateReplicaResult:
        command = CreateReplicaCommand(client_id=agent.client_id, agent_id=agent.agent_id, **overrides)
        async with self.uow:
            return await CreateReplica(self.uow, self.clock, self.supply, self.failover).execute(command)

    async def register_replica(
        self, agent: Agent, instance_id: str = STANDBY, pool_id: str = POOL_D, **kw: Any
    ) -> Replica:
        return (await self.create(agent, instance_id=instance_id, pool_id=pool_id, **kw)).replica

    async def list_replicas(self, agent: Agent, **overrides: Any) -> ListReplicasResult:
        query = ListReplicasQuery(client_id=agent.client_id, agent_id=agent.agent_id, **overrides)
        async with self.uow:
            return await ListReplicas(self.uow, self.clock).execute(query)

    async def promote(self, agent: Agent, replica: Replica, **overrides: Any) -> PromotionResult:
        command = PromoteReplicaCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, replica_id=replica.replica_id, **overrides
        )
        async with self.uow:
            return await PromoteReplica(self.uow, self.clock, self.promotion).execute(command)

    async def retire(self, agent: Agent, replica: Replica) -> RetireReplicaResult:
        command = RetireReplicaCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, replica_id=replica.replica_id
        )
        async with self.uow:
            return await RetireReplica(self.uow, self.clock, self.placement).execute(command)

    async def attach(self, agent: Agent, replica: Replica, instance_id: str = STANDBY, **kw: Any) -> Replica:
        command = AttachReplicaInstanceCommand(
            client_id=agent.client_id,
            agent_id=agent.agent_id,
            replica_id=replica.replica_id,
            instance_id=instance_id,
            **kw,
        )
        async with self.uow:
            return await AttachReplicaInstance(self.uow, self.clock, self.supply, self.effects).execute(command)

    async def report(
        self, agent: Agent, replica: Replica, status: ReplicaStatus, **kw: Any
    ) -> ReportReplicaStatusResult:
        command = ReportReplicaStatusCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, replica_id=replica.replica_id, status=status, **kw
        )
        async with self.uow:
            return await ReportReplicaStatus(self.uow, self.clock, self.effects).execute(command)

    async def sync(self, agent: Agent, replica: Replica, **kw: Any) -> Replica:
        command = ReportReplicaSyncCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, replica_id=replica.replica_id, **kw
        )
        async with self.uow:
            return await ReportReplicaSync(self.uow, self.clock, self.effects).execute(command)

    async def ready_standby(self, agent: Agent, instance_id: str = STANDBY, pool_id: str = POOL_D) -> Replica:
        """An agent-launched replica that reached ``ready`` (L2 + L7)."""
        replica = await self.register_replica(agent, instance_id, pool_id)
        await self.report(agent, replica, ReplicaStatus.READY)
        assert replica.sync_status is SyncStatus.SYNCED
        return replica

    async def emergency(self, agent: Agent, signal_type: SignalKind = SignalKind.REBALANCE, **kw: Any) -> SignalOutcome:
        kw.setdefault("instance_id", OLD)
        command = HandleInterruptionSignalCommand(
            client_id=agent.client_id, agent_id=agent.agent_id, signal_type=signal_type, **kw
        )
        async with self.uow:
            return await HandleInterruptionSignal(self.uow, self.signals).execute(command)

    async def notice(self, agent: Agent, **kw: Any) -> SignalOutcome:
        """R8 with a termination notice, as agent v4 sends it."""
        return await self.emergency(agent, SignalKind.TERMINATION, **kw)

    async def imminent(self, agent: Agent, **kw: Any) -> SignalOutcome:
        kw.setdefault("instance_id", OLD)
        command = HandleTerminationImminentCommand(client_id=agent.client_id, agent_id=agent.agent_id, **kw)
        async with self.uow:
            return await HandleTerminationImminent(self.uow, self.signals).execute(command)

    async def rebalance(self, agent: Agent, **kw: Any) -> SignalOutcome:
        kw.setdefault("instance_id", OLD)
        command = HandleRebalanceRecommendationCommand(client_id=agent.client_id, agent_id=agent.agent_id, **kw)
        async with self.uow:
            return await HandleRebalanceRecommendation(self.uow, self.signals).execute(command)

    async def coordinate(self, agent: Agent) -> CoordinateReplicasResult:
        use_case = CoordinateReplicas(
            self.uow,
            self.clock,
            self.placement,
            self.effects,
            EpisodeWatch(self.uow, self.placement, self.supply, self.failover),
            StandbyUpkeep(self.uow, self.placement, self.supply, self.timings),
        )
        async with self.uow:
            return await use_case.execute(CoordinateReplicasCommand(client_id=agent.client_id, agent_id=agent.agent_id))

    # --- reading the store ---------------------------------------------------------------------------------------

    def replicas(self, agent: Agent, *, live: bool = False) -> list[Replica]:
        found = [r for r in self.uow.store.replicas.values() if r.agent_id == agent.agent_id]
        return [r for r in found if r.is_active] if live else found

    def episodes(self, agent: Agent) -> list[InterruptionEpisode]:
        return [e for e in self.uow.store.episodes.values() if e.agent_id == agent.agent_id]

    def role(self, agent: Agent, instance_id: str) -> InstanceRole:
        return self.instance(agent, instance_id).role


def no_hints() -> PoolHints:
    return PoolHints()
