"""Admin read models (M4, M6, M8–M12) and the job health that H1 and M11 share."""

from __future__ import annotations

from dishka import Provider, Scope, provide

from spotopt.application.ports.system import Clock
from spotopt.application.system.job_health import JobHealth, ServerStart


class AdminViewsProvider(Provider):
    job_health = provide(JobHealth, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def server_start(self, clock: Clock) -> ServerStart:
        """Resolved once when the application starts (its lifespan), so it is the server's start instant."""
        return ServerStart(clock.now())
