"""Port → adapter bindings."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine

from spotopt.adapters.clock import SystemClock
from spotopt.adapters.persistence.repositories.retention import SqlAlchemyRetentionStore
from spotopt.adapters.persistence.repositories.system import SqlAlchemyDatabaseProbe, SqlAlchemyJobMonitor
from spotopt.adapters.persistence.uow import SqlAlchemyUnitOfWork
from spotopt.adapters.security import Sha256TokenHasher
from spotopt.application.agents.timings import AgentTimings
from spotopt.application.jobs.schedule import JobCatalogue
from spotopt.application.ports.clients import TokenHasher
from spotopt.application.ports.system import Clock, DatabaseProbe, JobMonitor, RetentionStore
from spotopt.application.ports.uow import UnitOfWork
from spotopt.application.system.authenticate import EnvAdminToken
from spotopt.bootstrap.settings import Settings


class AdaptersProvider(Provider):
    clock = provide(SystemClock, provides=Clock, scope=Scope.APP)
    hasher = provide(Sha256TokenHasher, provides=TokenHasher, scope=Scope.APP)
    uow = provide(SqlAlchemyUnitOfWork, provides=UnitOfWork, scope=Scope.REQUEST)
    retention = provide(SqlAlchemyRetentionStore, provides=RetentionStore, scope=Scope.REQUEST)

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
