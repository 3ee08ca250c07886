"""Issue 10 bindings: the token cache (with its in-process eviction) and the heartbeat fast path."""

from __future__ import annotations

from collections.abc import Iterator

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from spotopt.adapters.persistence.client_changes import ClientChangeWatcher
from spotopt.adapters.persistence.repositories.heartbeats import SqlAlchemyLivenessRefresher
from spotopt.adapters.token_cache import InProcessTokenCache
from spotopt.application.ports.liveness import LivenessRefresher
from spotopt.application.ports.token_cache import TokenCache
from spotopt.bootstrap.settings import Settings


class HotPathProvider(Provider):
    @provide(scope=Scope.APP)
    def token_cache(self, settings: Settings, engine: AsyncEngine) -> Iterator[TokenCache]:
        cache = InProcessTokenCache(settings.token_cache_ttl)
        watcher = ClientChangeWatcher(engine, cache)
        yield cache
        watcher.close()

    @provide(scope=Scope.REQUEST)
    def liveness_refresher(self, session: AsyncSession) -> LivenessRefresher:
        return SqlAlchemyLivenessRefresher(session)
