"""dishka providers grouped by role (house style §8). The only place that knows every concrete class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from dishka import Provider, Scope, from_context, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from spotopt.adapters.clock import SystemClock
from spotopt.adapters.persistence.engine import create_engine, create_sessionmaker
from spotopt.adapters.persistence.probes import SqlAlchemyDatabaseProbe, SqlAlchemyJobMonitor
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.adapters.security import Sha256TokenHasher
from spotopt.application.ledger_book import LedgerBook
from spotopt.application.placement import Placement
from spotopt.application.settings import AgentTimings
from spotopt.application.ports import Clock, DatabaseProbe, JobMonitor, TokenHasher, UnitOfWork
from spotopt.application.use_cases.acknowledge_command import AcknowledgeCommand
from spotopt.application.use_cases.authenticate import Authenticate, EnvAdminToken
from spotopt.application.use_cases.create_admin_token import CreateAdminToken
from spotopt.application.use_cases.create_client import CreateClient
from spotopt.application.use_cases.get_agent_config import GetAgentConfig
from spotopt.application.use_cases.get_health import GetHealth
from spotopt.application.use_cases.poll_commands import PollCommands
from spotopt.application.use_cases.record_heartbeat import RecordHeartbeat
from spotopt.application.use_cases.regenerate_client_token import RegenerateClientToken
from spotopt.application.use_cases.register_agent import RegisterAgent
from spotopt.application.use_cases.report_cleanup import ReportCleanup
from spotopt.application.use_cases.report_switch import ReportSwitch
from spotopt.application.use_cases.report_termination import ReportTermination
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

    @provide(scope=Scope.APP)
    def database_probe(self, engine: AsyncEngine) -> DatabaseProbe:
        return SqlAlchemyDatabaseProbe(engine)

    @provide(scope=Scope.APP)
    def job_monitor(self, engine: AsyncEngine, settings: Settings) -> JobMonitor:
        return SqlAlchemyJobMonitor(engine, enabled=settings.enable_background_jobs)

    @provide(scope=Scope.APP)
    def agent_timings(self, settings: Settings) -> AgentTimings:
        return AgentTimings(heartbeat_timeout=settings.agent_heartbeat_timeout)

    @provide(scope=Scope.APP)
    def env_admin_token(self, settings: Settings, hasher: TokenHasher) -> EnvAdminToken:
        return EnvAdminToken(hasher.hash(settings.admin_token) if settings.admin_token else None)


class UseCasesProvider(Provider):
    scope = Scope.REQUEST
    services = provide_all(LedgerBook, Placement)
    use_cases = provide_all(
        AcknowledgeCommand,
        Authenticate,
        CreateAdminToken,
        CreateClient,
        GetAgentConfig,
        GetHealth,
        PollCommands,
        RecordHeartbeat,
        RegenerateClientToken,
        RegisterAgent,
        ReportCleanup,
        ReportSwitch,
        ReportTermination,
    )


def default_providers() -> list[Any]:
    return [InfrastructureProvider(), AdaptersProvider(), UseCasesProvider()]
