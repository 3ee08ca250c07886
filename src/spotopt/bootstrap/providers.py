"""dishka providers grouped by role (house style §8). The only place that knows every concrete class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from dishka import Provider, Scope, from_context, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.clock import SystemClock
from spotopt.adapters.decision_engine import RulesDecisionEngine
from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.probes import SqlAlchemyDatabaseProbe, SqlAlchemyJobMonitor
from spotopt.adapters.persistence.retention import SqlAlchemyRetentionStore
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.adapters.policy_store import BuiltinPolicyStore
from spotopt.adapters.security import Sha256TokenHasher
from spotopt.application.decision_inputs import DecisionInputs
from spotopt.application.episode_watch import EpisodeWatch
from spotopt.application.failover import Failover
from spotopt.application.interruptions import SignalHandling
from spotopt.application.job_schedule import JobCatalogue
from spotopt.application.ledger_book import LedgerBook
from spotopt.application.placement import Placement
from spotopt.application.ports import (
    Clock,
    DatabaseProbe,
    DecisionEngine,
    JobMonitor,
    PolicyStore,
    RetentionStore,
    TokenHasher,
    UnitOfWork,
)
from spotopt.application.promotion import Promotion
from spotopt.application.replica_effects import ReplicaEffects
from spotopt.application.replica_pools import ReplicaPools
from spotopt.application.replica_supply import ReplicaSupply
from spotopt.application.settings import AgentTimings
from spotopt.application.standby_upkeep import StandbyUpkeep
from spotopt.application.use_cases.accrue_ledger import AccrueLedger
from spotopt.application.use_cases.acknowledge_command import AcknowledgeCommand
from spotopt.application.use_cases.aggregate_pricing import AggregatePricing
from spotopt.application.use_cases.attach_replica_instance import AttachReplicaInstance
from spotopt.application.use_cases.authenticate import Authenticate, EnvAdminToken
from spotopt.application.use_cases.clean_retention import CleanRetention
from spotopt.application.use_cases.coordinate_replicas import CoordinateReplicas
from spotopt.application.use_cases.create_admin_token import CreateAdminToken
from spotopt.application.use_cases.create_client import CreateClient
from spotopt.application.use_cases.create_replica import CreateReplica
from spotopt.application.use_cases.decide_for_agent import DecideForAgent
from spotopt.application.use_cases.evaluate_auto_switch import EvaluateAutoSwitch
from spotopt.application.use_cases.fill_price_gaps import FillPriceGaps
from spotopt.application.use_cases.get_agent_config import GetAgentConfig
from spotopt.application.use_cases.get_health import GetHealth
from spotopt.application.use_cases.handle_interruption_signal import HandleInterruptionSignal
from spotopt.application.use_cases.handle_rebalance_recommendation import HandleRebalanceRecommendation
from spotopt.application.use_cases.handle_termination_imminent import HandleTerminationImminent
from spotopt.application.use_cases.issue_switch_command import IssueSwitchCommand
from spotopt.application.use_cases.list_agents_for_job import ListAgentsForJob
from spotopt.application.use_cases.list_replicas import ListReplicas
from spotopt.application.use_cases.poll_commands import PollCommands
from spotopt.application.use_cases.promote_replica import PromoteReplica
from spotopt.application.use_cases.record_auth_failure import RecordAuthFailure
from spotopt.application.use_cases.record_heartbeat import RecordHeartbeat
from spotopt.application.use_cases.record_pricing_report import RecordPricingReport
from spotopt.application.use_cases.regenerate_client_token import RegenerateClientToken
from spotopt.application.use_cases.register_agent import RegisterAgent
from spotopt.application.use_cases.report_cleanup import ReportCleanup
from spotopt.application.use_cases.report_replica_status import ReportReplicaStatus
from spotopt.application.use_cases.report_replica_sync import ReportReplicaSync
from spotopt.application.use_cases.report_switch import ReportSwitch
from spotopt.application.use_cases.report_termination import ReportTermination
from spotopt.application.use_cases.retire_replica import RetireReplica
from spotopt.application.use_cases.snapshot_client_growth import SnapshotClientGrowth
from spotopt.application.use_cases.snapshot_savings import SnapshotSavings
from spotopt.application.use_cases.sweep_commands import SweepCommands
from spotopt.bootstrap.jobs_provider import JobsProvider
from spotopt.bootstrap.settings import Settings


class InfrastructureProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(settings.database_url, pool_size=settings.db_pool_size)
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def sessionmaker(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_sessionmaker(engine)

    @provide(scope=Scope.REQUEST)
    async def session(self, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session


class AdaptersProvider(Provider):
    clock = provide(SystemClock, provides=Clock, scope=Scope.APP)
    hasher = provide(Sha256TokenHasher, provides=TokenHasher, scope=Scope.APP)
    uow = provide(SqlAlchemyUnitOfWork, provides=UnitOfWork, scope=Scope.REQUEST)
    retention = provide(SqlAlchemyRetentionStore, provides=RetentionStore, scope=Scope.REQUEST)
    decision_engine = provide(RulesDecisionEngine, provides=DecisionEngine, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def policy_store(self) -> PolicyStore:
        return BuiltinPolicyStore()

    @provide(scope=Scope.APP)
    def database_probe(self, engine: AsyncEngine) -> DatabaseProbe:
        return SqlAlchemyDatabaseProbe(engine)

    @provide(scope=Scope.APP)
    def job_monitor(self, engine: AsyncEngine, settings: Settings, jobs: JobCatalogue) -> JobMonitor:
        return SqlAlchemyJobMonitor(engine, enabled=settings.enable_background_jobs, specs=jobs.specs)

    @provide(scope=Scope.APP)
    def agent_timings(self, settings: Settings) -> AgentTimings:
        return AgentTimings(heartbeat_timeout=settings.agent_heartbeat_timeout)

    @provide(scope=Scope.APP)
    def env_admin_token(self, settings: Settings, hasher: TokenHasher) -> EnvAdminToken:
        return EnvAdminToken(hasher.hash(settings.admin_token) if settings.admin_token else None)


class UseCasesProvider(Provider):
    scope = Scope.REQUEST
    services = provide_all(LedgerBook, Placement, ListAgentsForJob, RecordAuthFailure)
    replica_services = provide_all(
        ReplicaPools, ReplicaSupply, Promotion, Failover, ReplicaEffects, SignalHandling, EpisodeWatch, StandbyUpkeep
    )
    replica_use_cases = provide_all(
        AttachReplicaInstance,
        CoordinateReplicas,
        CreateReplica,
        HandleInterruptionSignal,
        HandleRebalanceRecommendation,
        HandleTerminationImminent,
        ListReplicas,
        PromoteReplica,
        ReportReplicaStatus,
        ReportReplicaSync,
        RetireReplica,
    )
    decisions = provide_all(DecisionInputs, DecideForAgent, EvaluateAutoSwitch, IssueSwitchCommand)
    ledger_jobs = provide_all(AccrueLedger, CleanRetention, SnapshotClientGrowth, SnapshotSavings, SweepCommands)
    use_cases = provide_all(
        AcknowledgeCommand,
        AggregatePricing,
        Authenticate,
        CreateAdminToken,
        CreateClient,
        FillPriceGaps,
        GetAgentConfig,
        GetHealth,
        PollCommands,
        RecordHeartbeat,
        RecordPricingReport,
        RegenerateClientToken,
        RegisterAgent,
        ReportCleanup,
        ReportSwitch,
        ReportTermination,
    )


def default_providers() -> list[Any]:
    return [InfrastructureProvider(), AdaptersProvider(), UseCasesProvider(), JobsProvider()]
