"""dishka providers of the background-job machinery (house style §8, §10)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide, provide_all
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spotopt.adapters.job_queue import SaqJobQueue
from spotopt.adapters.persistence.repositories.system import SqlAlchemyJobRuns
from spotopt.application.agents.mark_stale_agents_offline import MarkStaleAgentsOffline
from spotopt.application.jobs.schedule import JobCatalogue
from spotopt.application.ports.system import JobQueue, JobRuns
from spotopt.application.system.record_job_failure import RecordJobFailure
from spotopt.bootstrap.background import JobBackend, job_catalogue, make_queue
from spotopt.bootstrap.settings import Settings

log = logging.getLogger("spotopt.jobs")


class JobsProvider(Provider):
    @provide(scope=Scope.APP)
    def catalogue(self, settings: Settings) -> JobCatalogue:
        return job_catalogue(settings)

    @provide(scope=Scope.APP)
    async def backend(self, settings: Settings, catalogue: JobCatalogue) -> AsyncIterator[JobBackend]:
        if not settings.redis_url:
            yield JobBackend(None)
            return
        queue = make_queue(settings, catalogue)
        await queue.connect()  # lazy: a Redis outage must not stop the API from serving agents
        yield JobBackend(queue)
        try:
            await queue.disconnect()
        except (RedisError, OSError) as exc:
            log.warning("job queue did not disconnect cleanly (%s)", type(exc).__name__)

    @provide(scope=Scope.APP)
    def job_queue(self, backend: JobBackend) -> JobQueue:
        return SaqJobQueue(backend.queue)

    @provide(scope=Scope.APP)
    def job_runs(self, sessionmaker: async_sessionmaker[AsyncSession]) -> JobRuns:
        return SqlAlchemyJobRuns(sessionmaker)

    use_cases = provide_all(MarkStaleAgentsOffline, RecordJobFailure, scope=Scope.REQUEST)
